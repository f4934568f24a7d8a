-- wrk script of the send-message + default-turn measurement (bench/throughput.py).
-- Each request POSTs one user.message to a session's events endpoint. The sessions are read
-- from the file named by SEND_TURN_SESSIONS (one id a line) and used in turn, so a session gets
-- its next message only after every other session has had one: the pool is sized so that its
-- default turn (400 ms on the mock's running clock) is over by then, and no message meets a
-- turn still playing (that would be a 409, which the benchmark counts as a failure).

local path = os.getenv("SEND_TURN_SESSIONS")
if path == nil then
    error("SEND_TURN_SESSIONS is not set")
end

local sessions = {}
for line in io.lines(path) do
    if line ~= "" then
        sessions[#sessions + 1] = line
    end
end
if #sessions == 0 then
    error("no session ids in " .. path)
end

local body = '{"events": [{"type": "user.message", "content": "Hello from the benchmark"}]}'
-- wrk.headers already holds the -H headers (the bearer token); format() uses it when given nil.
wrk.headers["Content-Type"] = "application/json"
local next_index = 0

request = function()
    next_index = next_index % #sessions + 1
    return wrk.format("POST", "/api/v1/cloud/sessions/" .. sessions[next_index] .. "/events", nil, body)
end
