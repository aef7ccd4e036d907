// Parse docs/asyncapi/asyncapi.json with the AsyncAPI initiative's own parser (@asyncapi/parser):
// prints one JSON line {"valid", "version", "errors", "warnings"}; exit code 1 when it is not valid.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const source = readFileSync(process.argv[2], "utf8");
const { document, diagnostics } = await new Parser().parse(source);
const describe = (d) => `${d.code}: ${d.message} at /${d.path.join("/")}`;
const errors = diagnostics.filter((d) => d.severity === 0).map(describe);
const warnings = diagnostics.filter((d) => d.severity === 1).map(describe);
process.stdout.write(
  JSON.stringify({ valid: Boolean(document) && errors.length === 0, version: document?.version() ?? null, errors, warnings }) + "\n",
);
process.exit(document && errors.length === 0 ? 0 : 1);
