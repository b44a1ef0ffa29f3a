/**
 * Cold start, ours on `NodeHttpClient.layerUndici` (the npm `undici` package): see `validate.ts`.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { validateOnce } from "./validate.js"

validateOnce(NodeHttpClient.layerUndici)
