import { consoleServiceSpec } from "../console/service.js";
import { camerasServiceSpec, simulatorServiceSpec } from "./camera-services.js";
import { httpServiceSpec } from "./http-service.js";
import { loadServiceSpec } from "./load-service.js";
import { brokerServiceSpec, journalServiceSpec, mqttServiceSpec } from "./mqtt-services.js";
import { opcuaBridgeServiceSpec, opcuaServiceSpec } from "./opcua-service.js";
import type { ServiceSpec } from "./service.js";
import { sparkplugServiceSpec } from "./sparkplug-service.js";

/** Every service the daemon can run: the supervisor starts them by dependsOn, and otherwise in this order. */
export function serviceSpecs(): ServiceSpec[] {
  return [
    httpServiceSpec,
    loadServiceSpec,
    brokerServiceSpec,
    journalServiceSpec,
    // Before the cameras: its start holds the event loop (see OpcuaService).
    opcuaServiceSpec,
    simulatorServiceSpec,
    camerasServiceSpec,
    mqttServiceSpec,
    sparkplugServiceSpec,
    opcuaBridgeServiceSpec,
    consoleServiceSpec,
  ];
}
