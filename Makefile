# The two commands of the README. Every install step lives in scripts/, so a fresh machine works.
.PHONY: run test e2e screenshot bench

# Installs what is missing, builds in release and serves the app on http://127.0.0.1:8080.
run:
	bash scripts/run.sh

# Installs what is missing (also Chromium, chromedriver, npm deps) and runs every suite.
test:
	bash scripts/test.sh

# Only the end-to-end suite against the current release build (after one `make test` or `make run`).
e2e:
	bash scripts/e2e.sh

# Copies the screenshots of the last end-to-end run (the three-person call, the meeting wide and on a
# phone, light and dark) into docs/ for the README.
screenshot:
	cp end2end/artifacts/three-person-call.png end2end/artifacts/meeting-*.png docs/

# The benchmark suite (not part of `make test`): writes BENCHMARKS.md and docs/bench-mesh-assembly.svg.
bench:
	bash scripts/bench.sh
