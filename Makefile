# The two commands of the README. Every install step lives in scripts/, so a fresh machine works.
.PHONY: run test

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh
