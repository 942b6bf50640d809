// A valid inventory of about the requested size, for the size tests and the load benchmark.
// Every host has its own address and static IP, so the rules that compare hosts have real work to do.

/** YAML text of a valid inventory of roughly `bytes` bytes (at least one manager and one worker). */
export function generateInventory(bytes: number): string {
  const head = [
    'all:',
    '  vars:',
    '    fridge_model: "3B"',
    '    fridge_image: example/flink-fridge',
    '    fridge_network: {prefix: 8, router: 10.0.0.1}',
    '  children:',
    '    managers:',
    '      hosts:',
    `        ${hostLine(0)}`,
    '    workers:',
    '      hosts:',
  ].join('\n');
  const lines = [head];
  let size = head.length + 1;
  for (let i = 1; size < bytes || i < 2; i++) {
    const line = `        ${hostLine(i)}`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

function hostLine(i: number): string {
  // From 10.1.0.0 on: clear of the router's 10.0.0.1, unique up to 16 million hosts.
  const addr = `10.${((i >> 16) & 255) + 1}.${(i >> 8) & 255}.${i & 255}`;
  return `pi${i}: {ansible_host: ${addr}, fridge_static_ip: ${addr}}`;
}
