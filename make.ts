#!/usr/bin/env -S node --import tsx
// democd's command line: parses arguments and calls the library in src/. Nothing else.
import { Command, Option } from "commander";
import { runCli } from "./src/cli.ts";

await runCli(process.argv, new Command(), Option);
