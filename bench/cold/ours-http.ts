/**
 * Cold start, ours on `NodeHttpClient.layer` (`node:http`; no npm `undici`): see `validate.ts`.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { validateOnce } from "./validate.js"

validateOnce(NodeHttpClient.layer)
