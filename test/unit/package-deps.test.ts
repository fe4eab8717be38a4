/**
 * The library installs only what the library uses (issue 11): the root package.json depends on
 * exactly piscina and socks, and every bare import in src/ is one of them, the optional peer
 * @opentelemetry/api (loaded by enableOpenTelemetry) or a `node:` builtin. The CLI's packages
 * (commander, cli-progress, hdr-histogram-js) belong to packages/cli, whose bare imports are its
 * own dependencies, `node:` builtins, or mqwire through the entry points the root exports.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import ts from "typescript";
import { repoRoot } from "../helpers/vectors.js";

/** The library's runtime dependencies: a new one is a deliberate change to this list. */
const LIBRARY_DEPENDENCIES = ["piscina", "socks"];

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  exports?: Record<string, unknown>;
}

const root = repoRoot();
const cliDir = join(root, "packages", "cli");

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** Every bare (non-relative) module specifier imported by the .ts files under `dir`. */
function bareImports(dir: string): { file: string; specifier: string }[] {
  const found: { file: string; specifier: string }[] = [];
  for (const file of readdirSync(dir, { recursive: true }) as string[]) {
    if (!file.endsWith(".ts") || file.endsWith(".d.ts")) continue;
    const text = readFileSync(join(dir, file), "utf8");
    // TypeScript's own scanner: static imports, re-exports, `import type` and dynamic import().
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      if (!ref.fileName.startsWith(".") && !ref.fileName.startsWith("/")) {
        found.push({ file, specifier: ref.fileName });
      }
    }
  }
  return found;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

describe("runtime dependencies", () => {
  const library = readPackage(root);

  test("the root package (the library) depends on exactly piscina and socks", () => {
    assert.equal(library.name, "mqwire");
    assert.deepEqual(Object.keys(library.dependencies ?? {}).sort(), LIBRARY_DEPENDENCIES);
  });

  test("every bare import in src/ is a dependency, an optional peer or a node: builtin", () => {
    const optionalPeers = Object.keys(library.peerDependencies ?? {}).filter(
      (name) => library.peerDependenciesMeta?.[name]?.optional === true,
    );
    const imports = bareImports(join(root, "src"));
    assert.ok(imports.length > 0, "the scan found no imports at all");
    const used = new Set<string>();
    for (const { file, specifier } of imports) {
      if (specifier.startsWith("node:")) continue;
      const name = packageName(specifier);
      assert.ok(
        LIBRARY_DEPENDENCIES.includes(name) || optionalPeers.includes(name),
        `src/${file} imports "${specifier}", which is not a dependency of the library ` +
          "(a builtin needs the node: prefix; CLI packages belong in packages/cli)",
      );
      used.add(name);
    }
    for (const name of LIBRARY_DEPENDENCIES) assert.ok(used.has(name), `nothing in src/ imports ${name}`);
  });

  test("the CLI declares what it imports and uses only mqwire's exported entry points", () => {
    const cli = readPackage(cliDir);
    assert.equal(cli.name, "mqwire-cli");
    const declared = Object.keys(cli.dependencies ?? {});
    for (const name of ["mqwire", "commander", "cli-progress", "hdr-histogram-js"]) {
      assert.ok(declared.includes(name), `packages/cli/package.json does not depend on ${name}`);
    }
    const entryPoints = Object.keys(library.exports ?? {});
    for (const { file, specifier } of bareImports(join(cliDir, "src"))) {
      if (specifier.startsWith("node:")) continue;
      const name = packageName(specifier);
      assert.ok(declared.includes(name), `packages/cli/src/${file} imports undeclared "${specifier}"`);
      if (name === "mqwire") {
        const entry = `.${specifier.slice("mqwire".length)}`;
        assert.ok(
          entryPoints.includes(entry),
          `packages/cli/src/${file} imports "${specifier}", not exported`,
        );
      }
    }
  });
});
