// The sensor simulator (fridge_services.sensors): how the inventory asks for it, the stack service it becomes,
// and the MQTT arguments job-submit then gives the example job.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatProblems, parseInventory } from '../../tasks/lib/inventory/load.ts';
import type { Inventory, LoadResult } from '../../tasks/lib/inventory/types.ts';
import { exampleJobMqttArgs, parseJobSubmitArgs } from '../../tasks/lib/phases/job-submit.ts';
import type { ComposeFile } from '../../tasks/lib/stack/compose-types.ts';
import { generateStack, SERVICE_MEMORY_MIB } from '../../tasks/lib/stack/generate.ts';
import { enabledServices } from '../../tasks/lib/steps/stack/service-images.ts';
import { SMALL_FLINK_CONFIG, seedInventory } from './stack-fixture.ts';

/** A one-host inventory with these fridge_services, written as YAML: the positions below are in this text. */
function withServices(services: string): LoadResult {
  const text = [
    'all:',
    '  vars:',
    `    fridge_services: ${services}`,
    '    fridge_image: fridge/flink',
    '    fridge_model: 3B',
    '  children:',
    '    managers:',
    '      hosts:',
    '        pi1: {ansible_host: 10.77.0.11}',
    '    workers:',
    '      hosts:',
    '        pi2: {ansible_host: 10.77.0.12}',
    '',
  ].join('\n');
  return parseInventory('inline.yaml', text);
}

function problems(r: LoadResult): string[] {
  return r.ok ? [] : formatProblems(r.problems).split('\n').filter(Boolean);
}

function services(services: string): Inventory['cluster']['services'] {
  const r = withServices(services);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.inventory.cluster.services;
}

describe('fridge_services.sensors in the inventory', () => {
  it('is off unless asked for; true takes 10 sensors at 1 reading/s each; a mapping overrides either', () => {
    expect(services('{mosquitto: true}').sensors).toBeUndefined();
    expect(services('{mosquitto: true, sensors: false}').sensors).toBeUndefined();
    expect(services('{mosquitto: true, sensors: true}').sensors).toEqual({ count: 10, rate: 1 });
    expect(services('{mosquitto: true, sensors: {count: 4}}').sensors).toEqual({ count: 4, rate: 1 });
    expect(services('{mosquitto: true, sensors: {count: 3, rate: 2.5}}').sensors).toEqual({ count: 3, rate: 2.5 });
  });

  it('points at each bad value, with the bounds', () => {
    expect(problems(withServices('{mosquitto: true, sensors: {count: 0, rate: 100, colour: red}}'))).toEqual([
      'inline.yaml:3:57: error: fridge_services.sensors.count: expected a whole number of sensors from 1 to 100, got 0',
      'inline.yaml:3:66: error: fridge_services.sensors.rate: expected readings per second per sensor, from 0.1 to 50, got 100',
      'inline.yaml:3:79: error: fridge_services.sensors.colour: unknown key "colour"; expected count (sensors) and rate (readings/s per sensor)',
    ]);
    expect(problems(withServices('{mosquitto: true, sensors: {count: 2.5}}'))).toEqual([
      'inline.yaml:3:57: error: fridge_services.sensors.count: expected a whole number of sensors from 1 to 100, got 2.5',
    ]);
    expect(problems(withServices('{mosquitto: true, sensors: many}'))).toEqual([
      'inline.yaml:3:49: error: fridge_services.sensors: expected true, false or a mapping such as {count: 10, rate: 1}, got "many"',
    ]);
  });

  it('refuses more readings in total than one Python process on a Pi should publish', () => {
    expect(problems(withServices('{mosquitto: true, sensors: {count: 100, rate: 5}}'))).toEqual([
      'inline.yaml:3:49: error: fridge_services.sensors: 100 sensors at 5/s are 500 readings/s; at most 200 in total (one Python process on the leader Pi)',
    ]);
  });

  it('needs Mosquitto, where it publishes', () => {
    expect(problems(withServices('{prometheus: true, sensors: true}'))).toEqual([
      'inline.yaml:3:50: error: fridge_services.sensors: the sensor simulator publishes to Mosquitto: set mosquitto: true as well',
    ]);
  });

  it('keeps the other services to booleans, and names sensors among the known keys', () => {
    expect(problems(withServices('{mosquitto: {count: 1}}'))).toEqual(['inline.yaml:3:34: error: fridge_services.mosquitto: expected true or false']);
    expect(problems(withServices('{sensor: true}'))).toEqual(['inline.yaml:3:23: error: fridge_services: unknown key "sensor"; did you mean "sensors"?']);
  });
});

describe('the sensors service in the stack', () => {
  const inv = seedInventory({ virtual: true, dnsrr: true, services: { mosquitto: true, prometheus: true, sensors: { count: 4, rate: 2 } } });
  const stack = generateStack(inv, { imageRef: 'reg/flink:1', flinkConfig: SMALL_FLINK_CONFIG });
  const doc = parse(stack.yaml) as ComposeFile;
  const svc = doc.services['sensors'];

  it('runs the simulator image from the registry on the leader, publishing to the stack broker', () => {
    expect(stack.problems).toEqual([]);
    expect(stack.services).toEqual(['jobmanager', 'mosquitto', 'prometheus', 'sensors', 'taskmanager']);
    expect(svc?.image).toBe('10.77.0.1:5000/fridge/sensors:1-bookworm-1');
    expect(svc?.environment).toEqual({
      MQTT_HOST: 'mosquitto',
      MQTT_PORT: '1883',
      SENSORS_COUNT: '4',
      SENSORS_RATE: '2',
      READINGS_TOPIC: 'sensors/{sensor}/readings',
      RESULTS_TOPIC: 'sensors/+/results',
      STATS_TOPIC: 'fridge/pipeline/stats',
    });
    expect(svc?.networks).toEqual(['flink']);
    expect(svc?.deploy.placement.constraints).toEqual(['node.hostname == worker01']);
    expect(svc?.deploy.resources.limits.memory).toBe('48M');
  });

  it('publishes no port, and keeps the sequence numbers in a volume', () => {
    expect(svc?.ports).toBeUndefined();
    expect(svc?.volumes).toEqual([{ type: 'volume', source: 'sensors-data', target: '/var/lib/fridge-sensors' }]);
    expect(Object.keys(doc.volumes ?? {})).toContain('sensors-data');
  });

  it('counts toward the leader’s pinned memory, and its image is built with the others', () => {
    expect(SERVICE_MEMORY_MIB.sensors).toBe(48);
    expect(enabledServices(inv).sort()).toEqual(['mosquitto', 'prometheus', 'sensors']);
  });

  it('is refused without Mosquitto (an inventory built in code, which the schema never saw)', () => {
    const bad = generateStack(seedInventory({ services: { sensors: { count: 1, rate: 1 } } }), { imageRef: 'reg/flink:1', flinkConfig: SMALL_FLINK_CONFIG });
    expect(bad.problems).toContainEqual({ severity: 'error', subject: 'sensors', message: 'the sensor simulator publishes to Mosquitto: fridge_services.mosquitto must be on too' });
    expect(bad.services).not.toContain('sensors');
  });
});

describe('job-submit: the example job reads MQTT when the stack has Mosquitto', () => {
  const withBroker = seedInventory({ services: { mosquitto: true } });
  const without = seedInventory();

  it('adds the broker and the results topic, and lets a switch from generated readings drop the old source', () => {
    const r = parseJobSubmitArgs({ args: ['--window-seconds 5'] }, withBroker);
    expect(r).toMatchObject({
      ok: true,
      value: {
        args: ['--mqtt-url', 'tcp://mosquitto:1883', '--mqtt-results-topic', 'sensors/{sensor}/results', '--window-seconds', '5'],
        allowNonRestoredState: true,
      },
    });
  });

  it('leaves the arguments alone without Mosquitto, for another jar, or when the user chose the source', () => {
    expect(exampleJobMqttArgs(without, [], false)).toBeUndefined();
    expect(exampleJobMqttArgs(withBroker, [], true)).toBeUndefined();
    expect(exampleJobMqttArgs(withBroker, ['--rate', '20'], false)).toBeUndefined();
    expect(exampleJobMqttArgs(withBroker, ['--sensors=4'], false)).toBeUndefined();
    expect(exampleJobMqttArgs(withBroker, ['--mqtt-url', 'tcp://elsewhere:1883'], false)).toBeUndefined();
    const r = parseJobSubmitArgs({}, without);
    expect(r.ok && r.value.args).toEqual([]);
    expect(r.ok && r.value.allowNonRestoredState).toBeUndefined();
  });

  it('keeps a results topic the user gave', () => {
    expect(exampleJobMqttArgs(withBroker, ['--mqtt-results-topic', 'out/{sensor}'], false)).toEqual(['--mqtt-url', 'tcp://mosquitto:1883']);
  });
});
