import { camerasServiceSpec, simulatorServiceSpec } from "./camera-services.js";
import { httpServiceSpec } from "./http-service.js";
import { loadServiceSpec } from "./load-service.js";
import { brokerServiceSpec, journalServiceSpec, mqttServiceSpec } from "./mqtt-services.js";
import { opcuaServiceSpec } from "./opcua-service.js";
import type { ServiceSpec } from "./service.js";

/** Every service the daemon can run, in any order: the supervisor orders them by dependsOn. */
export function serviceSpecs(): ServiceSpec[] {
  return [
    httpServiceSpec,
    loadServiceSpec,
    brokerServiceSpec,
    journalServiceSpec,
    simulatorServiceSpec,
    camerasServiceSpec,
    mqttServiceSpec,
    opcuaServiceSpec,
  ];
}
