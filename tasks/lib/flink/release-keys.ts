// Which key must have signed a Flink release. Apache publishes every committer's key in one KEYS file; any
// of them could sign, so, as Apache's own flink-docker images do (their GPG_KEY per version), Fridge pins
// the release manager's key per version and the build refuses a tarball signed by any other key.
// Source of the pins: apache/flink-docker's Dockerfiles (GPG_KEY) and https://downloads.apache.org/flink/KEYS.

export const APACHE_FLINK_KEYS_URL = 'https://downloads.apache.org/flink/KEYS';

/** Full primary-key fingerprints, by Flink version. A new version is added here with its release. */
export const FLINK_RELEASE_KEYS: Readonly<Record<string, string>> = {
  '1.20.0': 'B2D64016B940A7E0B9B72E0D7D0528B28037D8BC',
  '1.20.1': '5575E80D59BBB73C15A479B88C1FC56D16B0029D',
  '1.20.2': 'CC33238850B5A92624ED7F6216AE0DDBBB2F380B',
  '1.20.3': '5EE2CDBE52BDDB9CCB1C63B6E6BAF9CFABD4ED71',
  '1.20.4': 'F7529FAE24811A5C0DF3CA741596BBF0726835D8',
  '2.0.0': 'F8E419AA0B60C28879E876859DFF40967ABFC5A4',
  '2.0.1': 'E60A9680590FF0FF13B9DE01224C2311410823C4',
  '2.0.2': 'F7529FAE24811A5C0DF3CA741596BBF0726835D8',
  '2.1.0': '7A14EF9AD986EF0D56B2E73F6AF817E6C59EC690',
  '2.1.1': '5EAD34D67F105064591085E4AA69A48B2A51091D',
  '2.1.2': 'F7529FAE24811A5C0DF3CA741596BBF0726835D8',
  '2.2.0': '7BC9FA3EBE7E3DC7CD0EA0454C09617EAF241D76',
  '2.2.1': 'F7529FAE24811A5C0DF3CA741596BBF0726835D8',
  '2.3.0': 'E11F792053638C56C98ACFADB5B638DCA5F94E4A',
};

/** FRIDGE_FLINK_GPG_KEY pins a version this table does not know yet (from its release announcement or KEYS). */
export function releaseSigningKey(version: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const override = env.FRIDGE_FLINK_GPG_KEY?.replace(/\s+/g, '').toUpperCase();
  return override || FLINK_RELEASE_KEYS[version];
}

/** Apache's signature sits next to the tarball: the same URL with .asc. */
export function signatureUrl(tarballUrl: string): string {
  return `${tarballUrl}.asc`;
}
