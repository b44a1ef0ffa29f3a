#!/usr/bin/env bash
# The consumer test (issue 15): the packages as a user gets them, outside this repository.
#
#   1. `pnpm build`, then `pnpm pack` each package (what `pnpm publish` would upload: its dist/);
#      each tarball must hold only what a user needs (no tests, no bench, no tsbuildinfo).
#   2. In an empty project under `mktemp -d` (outside the workspace), `npm install` the four
#      tarballs and the registry packages a user adds (the README's "Install" section), then
#      check that its lockfile and node_modules hold no link into the workspace.
#   3. There: run an .mjs and a .cjs program that each get an app token from the mock started
#      from the installed @effect-twitch/testing; type-check a .ts (and a .cts) file with
#      `strict` under moduleResolution NodeNext and under Bundler; bundle the .ts program with
#      esbuild and run the bundle; run the installed `twitch-auth --version` and
#      `twitch-auth demo`, and `twitch-auth --version` after `npm i -g` of its tarball and
#      through `npx` from it. @effect-twitch/sql: imported from an .mjs and a .cjs program and
#      type-checked with the rest; when EFFECT_TWITCH_PG_URL names a PostgreSQL server (.ci/run
#      starts one), the .mjs program also runs the store there, over @effect/sql-pg.
#
# The fixtures are in scripts/consumer/. Run by .ci/run; locally `pnpm consumer-test`.
# Needs Node 20+, npm and the npm registry; pnpm comes through npx as everywhere else.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
started=$SECONDS
export npm_config_update_notifier=false
# run from a pnpm script, npx would warn about the npm_config_* settings pnpm exports
unset npm_config_verify_deps_before_run npm_config__jsr_registry npm_config_npm_globalconfig
pnpm() { npx -y pnpm@10 "$@"; }
step() { echo "consumer-test: $*"; }
fail() {
  echo "consumer-test: FAILED: $*" >&2
  exit 1
}

# what a user installs beside ours: the lowest version each peer dependency range allows (so
# the ranges are honest: their floor is what this test runs), and the workspace's TypeScript,
# esbuild and Node types for the checks, and the SQL driver @effect-twitch/sql's tests use
version_of() { node -p "require('./${2:-.}/node_modules/$1/package.json').version"; }
floor_of() {
  node -p "const m = require('./packages/$1/package.json'); const r = m.peerDependencies['$2']; if (!/^\\^\\d+\\.\\d+\\.\\d+$/.test(r)) throw new Error('$1: peer range ' + r); r.slice(1)"
}
registry_packages=(
  "effect@$(floor_of auth effect)"
  "@effect/platform@$(floor_of auth @effect/platform)"
  "@effect/platform-node@$(floor_of testing @effect/platform-node)"
  "@effect/sql@$(floor_of sql @effect/sql)"
  "@effect/experimental@$(floor_of sql @effect/experimental)"
  "@effect/sql-pg@$(version_of @effect/sql-pg packages/sql)"
)
for name in typescript esbuild @types/node; do
  registry_packages+=("$name@$(version_of "$name")")
done

work=$(mktemp -d "${TMPDIR:-/tmp}/effect-twitch-consumer.XXXXXX")
# CONSUMER_TEST_KEEP=1 keeps the temporary project, to look into it
[ "${CONSUMER_TEST_KEEP:-}" = 1 ] || trap 'rm -rf "$work"' EXIT
case "$work/" in "$repo"/*) fail "the temporary project $work is inside the workspace" ;; esac

step "building the packages"
pnpm -s build

step "packing"
mkdir -p "$work/tarballs"
packages=(auth testing sql cli)
for pkg in "${packages[@]}"; do
  (cd "packages/$pkg" && pnpm -s pack --pack-destination "$work/tarballs" >/dev/null)
done
tarballs=("$work"/tarballs/*.tgz)
[ "${#tarballs[@]}" -eq "${#packages[@]}" ] || fail "expected ${#packages[@]} tarballs, got ${#tarballs[@]}"
for tarball in "${tarballs[@]}"; do
  listing=$(tar -tzf "$tarball")
  if bad=$(grep -E '(^|/)(test|tests|bench|build|coverage|node_modules)/|\.test(-d)?\.|\.stress\.|tsbuildinfo|vitest|tsconfig' <<<"$listing"); then
    fail "$(basename "$tarball") packs what a user does not need:"$'\n'"$bad"
  fi
  grep -qx 'package/LICENSE' <<<"$listing" || fail "$(basename "$tarball") has no LICENSE"
  tar -xzOf "$tarball" package/package.json | grep -q '"workspace:' && fail "$(basename "$tarball") still says workspace:"
  echo "  $(basename "$tarball"): $(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KiB"
done
tarball() { ls "$work"/tarballs/effect-twitch-"$1"-*.tgz; }

step "installing the tarballs with npm into $work/app"
app="$work/app"
mkdir -p "$app"
cp scripts/consumer/* "$app"/
cat >"$app/package.json" <<'EOF'
{ "name": "effect-twitch-consumer", "private": true, "type": "module" }
EOF
(
  cd "$app"
  npm install --no-audit --no-fund --loglevel=error \
    "$(tarball auth)" "$(tarball testing)" "$(tarball sql)" "$(tarball cli)" "${registry_packages[@]}"
)

step "checking that nothing links into the workspace"
grep -q "$repo" "$app/package-lock.json" && fail "package-lock.json names the workspace $repo"
grep -q '"link": true' "$app/package-lock.json" && fail "package-lock.json has a link"
grep -q 'workspace:' "$app/package-lock.json" && fail "package-lock.json has a workspace: range"
for pkg in "${packages[@]}"; do
  resolved=$(node -p "require('$app/package-lock.json').packages['node_modules/@effect-twitch/$pkg'].resolved")
  case "$resolved" in file:../tarballs/effect-twitch-"$pkg"-*.tgz) ;; *) fail "@effect-twitch/$pkg resolved from $resolved" ;; esac
done
# the only symbolic links npm makes are its .bin entries
links=$(find "$app/node_modules" -type l -not -path '*/.bin/*')
[ -z "$links" ] || fail "symbolic links in node_modules:"$'\n'"$links"
find "$app/node_modules" -type l -exec readlink -f {} + | grep -q "^$repo" && fail "a .bin entry points into the workspace"

step "checking that every source and declaration map points at a file the package ships"
node - "$app/node_modules/@effect-twitch" <<'JS'
const Fs = require("node:fs"), Path = require("node:path")
const walk = (dir) => Fs.readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => e.isDirectory() ? walk(Path.join(dir, e.name)) : [Path.join(dir, e.name)])
let maps = 0
for (const pkg of Fs.readdirSync(process.argv[2])) {
  const base = Path.join(process.argv[2], pkg)
  for (const map of walk(base).filter((file) => file.endsWith(".map"))) {
    maps++
    for (const source of JSON.parse(Fs.readFileSync(map, "utf8")).sources) {
      const file = Path.resolve(Path.dirname(map), source)
      if (!file.startsWith(base + Path.sep) || !Fs.existsSync(file)) {
        console.error(`${Path.relative(process.argv[2], map)} points at ${source}, not in the package`)
        process.exit(1)
      }
    }
  }
}
console.log(`  ${maps} maps, each source in its package`)
JS

cd "$app"
step "node app.mjs (ES module)"
node app.mjs | tee "$work/esm.out"
grep -q '^esm: app token for ' "$work/esm.out" || fail "app.mjs did not get an app token"

step "node app.cjs (CommonJS)"
node app.cjs | tee "$work/cjs.out"
grep -q '^cjs: app token for ' "$work/cjs.out" || fail "app.cjs did not get an app token"

step "node app-sql.mjs, node app-sql.cjs (@effect-twitch/sql)"
node app-sql.mjs | tee "$work/esm-sql.out"
if [ -n "${EFFECT_TWITCH_PG_URL:-}" ]; then
  grep -q '^esm-sql: SqlTokenStore on PostgreSQL' "$work/esm-sql.out" || fail "app-sql.mjs did not run the store"
else
  grep -q '^esm-sql: SqlTokenStore imported' "$work/esm-sql.out" || fail "app-sql.mjs did not import the store"
fi
node app-sql.cjs | tee "$work/cjs-sql.out"
grep -q '^cjs-sql: SqlTokenStore required' "$work/cjs-sql.out" || fail "app-sql.cjs did not require the store"

# skipLibCheck is off so that our own .d.ts files are checked too; what tsc says about other
# packages' declarations (such as @effect/platform-node's `ws` types, not installed) is not ours
typecheck() {
  local output ours
  output=$(./node_modules/.bin/tsc -p "$1" --pretty false || true)
  ours=$(grep -E '^(app[.-]|node_modules/@effect-twitch/)' <<<"$output" || true)
  [ -z "$ours" ] || fail "tsc -p $1:"$'\n'"$ours"
  echo "  no error in the program or in @effect-twitch's declarations ($(grep -c 'error TS' <<<"$output" || true) elsewhere)"
}
step "tsc: strict, moduleResolution NodeNext (app.ts, app.cts, app-sql.ts)"
typecheck tsconfig.nodenext.json
step "tsc: strict, moduleResolution Bundler (app.ts, app-sql.ts)"
typecheck tsconfig.bundler.json

step "esbuild: bundling app.ts and running the bundle"
./node_modules/.bin/esbuild app.ts --bundle --platform=node --target=node20 --format=esm --log-level=warning \
  --banner:js='import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' \
  --outfile=bundle.mjs
node bundle.mjs | tee "$work/bundle.out"
grep -q '^bundle: app token (Token.AppToken)' "$work/bundle.out" || fail "the bundle did not get an app token"

expected=$(node -p "require('@effect-twitch/cli/package.json').version")
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
mkdir -p "$HOME"
step "twitch-auth --version (installed)"
version=$(./node_modules/.bin/twitch-auth --version)
[ "$version" = "$expected" ] || fail "twitch-auth --version said '$version', the package is $expected"
echo "  $version"

step "twitch-auth demo (installed)"
./node_modules/.bin/twitch-auth demo >"$work/demo.out" 2>&1 || fail "twitch-auth demo failed: $(cat "$work/demo.out")"
grep -q '^Done in ' "$work/demo.out" || fail "twitch-auth demo did not finish: $(cat "$work/demo.out")"
tail -n 3 "$work/demo.out"

step "npm i -g of the cli tarball (into a prefix of its own), then twitch-auth --version"
npm install --global --prefix "$work/global" --no-audit --no-fund --loglevel=error "$(tarball cli)"
version=$("$work/global/bin/twitch-auth" --version)
[ "$version" = "$expected" ] || fail "the global twitch-auth --version said '$version'"
echo "  $version"

step "npx from the cli tarball, in an empty directory"
mkdir -p "$work/empty"
version=$(cd "$work/empty" && npm_config_cache="$work/npm-cache" npx -y --package "$(tarball cli)" twitch-auth --version)
[ "$version" = "$expected" ] || fail "npx twitch-auth --version said '$version'"
echo "  $version"

step "passed in $((SECONDS - started)) s"
