#!/usr/bin/env node
import { main } from "../dist/main.js";

main(process.argv).catch((err) => {
  process.stderr.write(`mqwire: ${err?.message ?? err}\n`);
  process.exitCode = 1;
});
