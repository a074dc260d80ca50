-- better-auth POST /api/auth/sign-in/email (JSON), each request from a fresh browser: the peer's password
-- sign-in, comparable to sign_in.lua. LK_USERS gives the emails (the users run.sh signed up on the peer).
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local reqs = {}
function init(args)
   local password = os.getenv("LK_PASSWORD")
   for _, u in ipairs(lk_load("LK_USERS")) do
      reqs[#reqs + 1] = wrk.format("POST", "/api/auth/sign-in/email",
         { ["Content-Type"] = "application/json", ["Origin"] = "http://127.0.0.1" },
         '{"email":"' .. u.email .. '","password":"' .. password .. '"}')
   end
   next_request = lk_cycle(reqs)
end

function request() return next_request() end
