-- better-auth GET /api/auth/get-session as signed-in browsers: each request carries one user's session cookie
-- (LK_PEER_COOKIES: a Lua table of cookie strings written by run.sh from the peer's sign-up replies).
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local reqs = {}
function init(args)
   for _, c in ipairs(lk_load("LK_PEER_COOKIES")) do
      reqs[#reqs + 1] = wrk.format("GET", "/api/auth/get-session", { ["Cookie"] = c })
   end
   next_request = lk_cycle(reqs)
end

function request() return next_request() end
