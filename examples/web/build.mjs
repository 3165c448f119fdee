// Bundle src/main.ts (and the generated client) into dist/app.js with esbuild, next to the page.
import { copyFile, mkdir, rm, stat } from "node:fs/promises";
import { build } from "esbuild";

await rm("dist", { recursive: true, force: true });
await mkdir("dist");
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  outfile: "dist/app.js",
  logLevel: "warning",
});
await Promise.all(["index.html", "style.css"].map((name) => copyFile(name, `dist/${name}`)));
const { size } = await stat("dist/app.js");
console.log(`dist/app.js: ${size} bytes`);
