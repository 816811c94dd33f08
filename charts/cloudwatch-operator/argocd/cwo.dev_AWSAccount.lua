-- Argo CD health check for cwo.dev/AWSAccount (cloudwatch-operator), for argocd-cm as
-- resource.customizations.health.cwo.dev_AWSAccount.
--   Healthy      Ready=True and the operator has observed the current generation.
--   Degraded     Stalled=True: a terminal reason (InvalidSpec: a malformed namespace selector)
--                that only a change to the spec can resolve.
--   Progressing  anything else: not reconciled yet, a newer generation not observed yet,
--                Reconciling=True (AccessDenied while the role's trust refuses the operator,
--                retried), or not Ready yet.
-- Runs without Lua's standard libraries (Argo CD's default for argocd-cm scripts).
local function find(conditions, wanted)
  for _, c in ipairs(conditions) do
    if c.type == wanted then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = c.reason or c.type
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

local hs = {}
local generation = obj.metadata.generation
local status = obj.status
if status == nil or status.observedGeneration == nil
    or (generation ~= nil and status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions or {}
local stalled = find(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  -- Stalled and Reconciling messages lead with their reason already.
  hs.message = stalled.message or stalled.reason
  return hs
end

local ready = find(conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
  return hs
end

local reconciling = find(conditions, "Reconciling")
hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = reconciling.message or reconciling.reason
elseif ready ~= nil then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the Ready condition"
end
return hs
