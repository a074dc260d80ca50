-- One-step password sign-in: POST /v1/client/sign_ins identifier+password+strategy=password, each request
-- from a fresh browser (no cookie), so every request creates a client, a sign-in and a session.
dofile(os.getenv("LK_LOAD_DIR") .. "/report.lua")
local function enc(s)
   return (string.gsub(s, "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local reqs = {}
function init(args)
   local password = os.getenv("LK_PASSWORD")
   for _, u in ipairs(lk_load("LK_USERS")) do
      reqs[#reqs + 1] = wrk.format("POST", "/v1/client/sign_ins",
         { ["Content-Type"] = "application/x-www-form-urlencoded" },
         "identifier=" .. enc(u.email) .. "&password=" .. enc(password) .. "&strategy=password")
   end
   next_request = lk_cycle(reqs)
end

-- Defined at load time so wrk knows the requests are dynamic.
function request() return next_request() end
