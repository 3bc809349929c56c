// Builds the canvas into build/ (committed, so the app needs no Node): build/canvas.js, build/canvas.css and
// build/index.html, plus build/manifest.json with the SHA-256 of the sources it was built from and of each built
// file; tests/test_canvas.py recomputes both, so a committed bundle always matches the committed source.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const out = join(here, "build");
const SOURCES = ["package.json", "package-lock.json", "build.mjs", "index.html", "src"];

function files(path) {
  const full = join(here, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).sort().flatMap((name) => files(join(path, name)));
}

function sha256(...parts) {
  const hash = createHash("sha256");
  parts.forEach((part) => hash.update(part));
  return hash.digest("hex");
}

export function sourcesHash() {
  const hash = createHash("sha256");
  SOURCES.flatMap(files).map((path) => relative(here, join(here, path)).split("\\").join("/")).sort().forEach((path) => {
    hash.update(path + "\0");
    hash.update(readFileSync(join(here, path)));
    hash.update("\0");
  });
  return hash.digest("hex");
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out);
await build({
  entryPoints: [join(here, "src/index.jsx")],
  outfile: join(out, "canvas.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "eof",
  logLevel: "warning",
});
copyFileSync(join(here, "index.html"), join(out, "index.html"));
const built = {};
for (const name of readdirSync(out).sort()) built[name] = sha256(readFileSync(join(out, name)));
const manifest = { sources_sha256: sourcesHash(), files: built, esbuild: "0.28.2" };
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`canvas built: ${Object.keys(built).join(", ")} (sources ${manifest.sources_sha256.slice(0, 12)})`);
