-- cpm_mms KEMI routing (app_lua): the same logic as kamailio.cfg.sample.
-- SPDX-License-Identifier: GPL-2.0-or-later

function ksr_request_route()
	if KSR.maxfwd.process_maxfwd(10) < 0 then
		KSR.sl.send_reply(483, "Too Many Hops")
		return 1
	end
	if KSR.is_OPTIONS() then
		KSR.sl.send_reply(200, "OK")
		return 1
	end
	if KSR.is_ACK() then
		return 1
	end
	if not KSR.is_MESSAGE() then
		KSR.sl.send_reply(405, "Method Not Allowed")
		return 1
	end
	-- IMDNs for messages that came from MMS become MM4 reports
	if KSR.cpm_mms.is_imdn() > 0 then
		KSR.cpm_mms.report()
		return 1
	end
	-- CPM -> MMS: 0 = suspended, the module answers later
	local rc = KSR.cpm_mms.forward()
	if rc == 0 then
		return 1
	end
	KSR.notice("MESSAGE to " .. KSR.pv.get("$ru") .. " not sent to MMS (" ..
		rc .. "): " .. tostring(KSR.pv.get("$mm4(status_code)")) .. " " ..
		tostring(KSR.pv.get("$mm4(status_text)")) .. "\n")
	KSR.sl.send_reply(KSR.pv.get("$mm4(status_code)"),
		KSR.pv.get("$mm4(status_text)"))
	return 1
end

-- event_route[cpm-mms:mm4-request] as a KEMI callback (run by the MM4 delivery process)
function ksr_cpm_mms_event(evname)
	KSR.info("MM4 " .. tostring(KSR.pv.get("$mm4(message_id)")) .. " from " ..
		tostring(KSR.pv.get("$mm4(from)")) .. " to " ..
		tostring(KSR.pv.get("$mm4(to)")) .. " -> " ..
		tostring(KSR.pv.get("$mm4(target)")) .. "\n")
	return 1
end
