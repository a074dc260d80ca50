-- GET /v1/client as signed-in browsers: each request carries one identity's __client cookie.
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local reqs = {}
function init(args)
   for _, id in ipairs(lk_load("LK_IDENTITIES")) do
      reqs[#reqs + 1] = wrk.format("GET", "/v1/client", { ["Cookie"] = "__client=" .. id.cookie })
   end
   next_request = lk_cycle(reqs)
end

-- Defined at load time so wrk knows the requests are dynamic.
function request() return next_request() end
