#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv.slice(2));
// A failed start may leave a half-made server or client behind: an error ends the process, it does not hang.
if (code !== 0) process.exit(code);
process.exitCode = code;
