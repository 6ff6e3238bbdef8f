#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npx bough` works without a build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/interfaces/cli/main.ts");
process.exitCode = await main(process.argv);
