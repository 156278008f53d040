#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";
import { EARLY_V8_FLAGS } from "./lib/heap.js";

// V8 grows its young generation while the modules load, before the config (daemon.heap) can say
// how far it may, and under a steady load it never gives that back. So the lean setting comes first;
// the daemon applies the configured one when it starts.
setFlagsFromString(EARLY_V8_FLAGS);
const { main } = await import("./program.js");
main(process.argv);
