# The two commands: `make run` and `make test` (README). Everything else is a helper.
JOBS ?= $(shell nproc)
TEST_PRESET ?= asan

.PHONY: run test build release bench fuzz clean deps tidy

run: ## install what is missing, build release, start on the embedded default
	scripts/deps.sh build
	cmake --preset release >/dev/null
	cmake --build build/release --target latchkey -j $(JOBS)
	@mkdir -p .latchkey
	@[ -f .latchkey/config.json ] || cp conf/sample.json .latchkey/config.json
	@build/release/server/latchkey keys --data-dir .latchkey/data --config .latchkey/config.json | sed 's/^/  /'
	@echo "  FAPI: http://127.0.0.1:8080   BAPI: http://127.0.0.1:8081   (Ctrl-C stops)"
	@echo "  clerk-js: new Clerk(publishable_key, { proxyUrl: 'http://127.0.0.1:8080' })"
	@echo "  @clerk/backend: createClerkClient({ secretKey, apiUrl: 'http://127.0.0.1:8081', publishableKey, proxyUrl: 'http://127.0.0.1:8080' })"
	@echo "  @clerk/express: CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, CLERK_API_URL=http://127.0.0.1:8081, CLERK_PROXY_URL=http://127.0.0.1:8080"
	exec build/release/server/latchkey serve --data-dir .latchkey/data --config .latchkey/config.json

test: ## install what is missing, build (ASan+UBSan), run every test: unit, integration, e2e
	scripts/deps.sh test
	cmake --preset $(TEST_PRESET) >/dev/null
	cmake --build build/$(TEST_PRESET) -j $(JOBS)
# ctest's exit code is make's; its log (-O) gives the time per suite printed after it.
	ctest --preset $(TEST_PRESET) -j $(JOBS) -O build/$(TEST_PRESET)/ctest.log; rc=$$?; \
	  scripts/test-times.sh build/$(TEST_PRESET)/ctest.log; exit $$rc

release:
	scripts/deps.sh build
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS)

bench: ## micro-benchmarks + wrk load scenarios with same-run baselines
	scripts/deps.sh bench
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS)
	bench/load/run.sh

tidy: ## clang-tidy (.clang-tidy's checks) over conf/ crypto/ store/ server/; slow, so not part of `make test`
	cmake --preset asan >/dev/null
	scripts/tidy.sh $$(git ls-files 'conf/*.cpp' 'crypto/*.cpp' 'store/*.cpp' 'server/*.cpp')

clean:
	rm -rf build
