/**
 * Cold start, ours on `FetchHttpClient.layer` (Node's built-in `fetch`): see `validate.ts`.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { validateOnce } from "./validate.js"

validateOnce(FetchHttpClient.layer)
