// MAC address prefixes (IEEE MA-L assignments) of Raspberry Pi: the Pis' Ethernet and Wi-Fi interfaces carry them.
// Source: IEEE's public oui.txt, entries whose organisation is Raspberry Pi, as quoted in raspberrypi.stackexchange.com
// question 28365 (2024): B8-27-EB Raspberry Pi Foundation (Pi 3B and earlier), the others Raspberry Pi (Trading) Ltd.
// Their CID 3A-35-41 is not listed: a CID is not a globally unique MAC prefix.

export const RASPBERRY_PI_OUIS: Readonly<Record<string, string>> = {
  'b8:27:eb': 'Raspberry Pi Foundation',
  'dc:a6:32': 'Raspberry Pi Trading',
  'e4:5f:01': 'Raspberry Pi Trading',
  'd8:3a:dd': 'Raspberry Pi Trading',
  '28:cd:c1': 'Raspberry Pi Trading',
  '2c:cf:67': 'Raspberry Pi Trading',
};

export interface Vendor {
  /** What the table shows; undefined when the prefix is not one we know. */
  name: string | undefined;
  raspberryPi: boolean;
}

/** `b8:27:eb:12:34:56`, `B8-27-EB-…` or `b827eb123456` → the colon form in lower case; undefined when not a MAC. */
export function normaliseMac(mac: string): string | undefined {
  const hex = mac.toLowerCase().replace(/[:.-]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)?.join(':');
}

export function vendorOf(mac: string): Vendor {
  const m = normaliseMac(mac);
  if (!m) return { name: undefined, raspberryPi: false };
  const pi = RASPBERRY_PI_OUIS[m.slice(0, 8)];
  if (pi) return { name: pi, raspberryPi: true };
  // The locally administered bit: a MAC made up by software (docker's 02:42:…, a VM, a phone's private address).
  if ((parseInt(m.slice(0, 2), 16) & 0x02) !== 0) return { name: 'locally administered', raspberryPi: false };
  return { name: undefined, raspberryPi: false };
}
