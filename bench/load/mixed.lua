-- A browser-like mix per signed-in identity, in page-load order: environment, client, then token
-- refreshes (clerk-js refreshes the session token every ~50 s per tab, and on focus):
-- 2 x GET /v1/environment, 3 x GET /v1/client, 5 x POST tokens out of every 10 requests.
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local reqs = {}
function init(args)
   for _, id in ipairs(lk_load("LK_IDENTITIES")) do
      local cookie = "__client=" .. id.cookie
      local env = wrk.format("GET", "/v1/environment", { ["Cookie"] = cookie })
      local client = wrk.format("GET", "/v1/client", { ["Cookie"] = cookie })
      local token = wrk.format("POST", "/v1/client/sessions/" .. id.sid .. "/tokens",
         { ["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded" }, "")
      for _, r in ipairs({ env, client, token, client, token, env, token, client, token, token }) do
         reqs[#reqs + 1] = r
      end
   end
   next_request = lk_cycle(reqs)
end

-- Defined at load time so wrk knows the requests are dynamic.
function request() return next_request() end
