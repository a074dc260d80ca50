-- BAPI GET /v1/users/{id} with the secret key.
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local reqs = {}
function init(args)
   local auth = "Bearer " .. os.getenv("LK_SECRET_KEY")
   for _, u in ipairs(lk_load("LK_USERS")) do
      reqs[#reqs + 1] = wrk.format("GET", "/v1/users/" .. u.id, { ["Authorization"] = auth })
   end
   next_request = lk_cycle(reqs)
end

-- Defined at load time so wrk knows the requests are dynamic.
function request() return next_request() end
