#!/bin/sh
//bin/true; here=$(dirname "$(readlink -f "$0")"); exec "$here/node_modules/.bin/tsx" "$0" "$@"
// The two lines above are both shell and TypeScript: the shell runs this file with tsx's own
// command (its documented entry, found beside this file, so ./make.ts works from any
// directory); tsx skips the #! line and sees a comment.
//
// democd's command line: parses arguments and calls the library in src/. Nothing else.
import { Command, Option } from "commander";
import { runCli } from "./src/cli.ts";

await runCli(process.argv, new Command(), Option);
