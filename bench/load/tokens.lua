-- POST /v1/client/sessions/{id}/tokens (clerk-js's token refresh, the hot path): cookie + session id pairs.
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local reqs = {}
function init(args)
   for _, id in ipairs(lk_load("LK_IDENTITIES")) do
      reqs[#reqs + 1] = wrk.format("POST", "/v1/client/sessions/" .. id.sid .. "/tokens",
         { ["Cookie"] = "__client=" .. id.cookie, ["Content-Type"] = "application/x-www-form-urlencoded" }, "")
   end
   next_request = lk_cycle(reqs)
end

-- Defined at load time so wrk knows the requests are dynamic.
function request() return next_request() end
