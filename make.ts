#!/bin/sh
//bin/true; here=$(dirname "$(readlink -f "$0")"); exec node --import "$here/node_modules/tsx/dist/loader.mjs" "$0" "$@"
// The two lines above are both shell and TypeScript: the shell runs Node with tsx's loader
// found beside this file (so ./make.ts works from any directory); Node skips the #! line
// and sees a comment.
//
// democd's command line: parses arguments and calls the library in src/. Nothing else.
import { Command, Option } from "commander";
import { runCli } from "./src/cli.ts";

await runCli(process.argv, new Command(), Option);
