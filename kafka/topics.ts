/**
 * The topics of the pipeline and their settings, fit for an audit log: deletion
 * only by time (never compaction), retention long enough for the archive to
 * catch up after an outage, no unclean leader election, producer timestamps.
 * `ensureTopics` creates what is missing and reports drift on existing topics
 * without changing them.
 */
import kafkajs, { type Admin } from 'kafkajs';
import { ConfigError } from '../common/errors.js';
import {
  type Env,
  matching,
  positiveInteger,
  readSetting,
  setting,
  type SettingParser,
  wholeNumber,
} from '../common/settings.js';

export interface TopicSettings {
  /** @defaultValue 'audit.events' */
  eventsTopic: string;
  /** @defaultValue 'audit.events.dlq' */
  dlqTopic: string;
  /** @defaultValue 'audit.alerts' */
  alertsTopic: string;
  /** Export requests, read by the exporter group. @defaultValue 'audit.export.requests' */
  exportRequestsTopic: string;
  /** Export results, written in transactions by the exporter group. @defaultValue 'audit.export.results' */
  exportResultsTopic: string;
  /**
   * SIEM formats whose feed topics (`<eventsTopic>.<format>`, written in
   * transactions by `siem-feed`) are created. @defaultValue ['ocsf', 'ecs', 'cef']
   */
  siemFeedFormats: readonly string[];
  /** Partitions of new topics. @defaultValue 6 */
  partitions: number;
  /** Replicas of new topics. @defaultValue min(3, brokers in the cluster) */
  replicationFactor?: number | undefined;
  /** `min.insync.replicas`. @defaultValue min(2, replicationFactor) */
  minInsyncReplicas?: number | undefined;
  /** `retention.ms`; -1 keeps records forever. @defaultValue 2592000000 (30 days) */
  retentionMs: number;
  /**
   * `retention.ms` of the monitor's keyed topic (`<eventsTopic>.monitor`): the
   * history the monitor's rule state is rebuilt from. @defaultValue 2592000000 (30 days)
   */
  monitorRetentionMs: number;
}

export const TOPIC_DEFAULTS = {
  eventsTopic: 'audit.events',
  dlqTopic: 'audit.events.dlq',
  alertsTopic: 'audit.alerts',
  exportRequestsTopic: 'audit.export.requests',
  exportResultsTopic: 'audit.export.results',
  siemFeedFormats: ['ocsf', 'ecs', 'cef'],
  partitions: 6,
  retentionMs: 30 * 24 * 3600 * 1000,
  monitorRetentionMs: 30 * 24 * 3600 * 1000,
} as const satisfies Partial<TopicSettings>;

/** The monitor's keyed topic, written in transactions by `monitor`: `<eventsTopic>.monitor`. */
export function monitorKeyedTopic(eventsTopic: string): string {
  return `${eventsTopic}.monitor`;
}

/** The alerts as OCSF Detection Findings, written in transactions by `monitor`: `<alertsTopic>.ocsf`. */
export function alertsOcsfTopic(alertsTopic: string): string {
  return `${alertsTopic}.ocsf`;
}

const topicName = matching(/^[A-Za-z0-9._-]{1,249}$/, 'a topic name (letters, digits, . _ -)');

/** -1 keeps records forever; anything shorter than an hour would drop events an outage left unarchived. */
const retention: SettingParser<number> = {
  expects: '-1 (forever) or at least 3600000 (one hour)',
  emptyIsUnset: true,
  parse: (raw) => {
    const n = wholeNumber(-1, '').parse(raw);
    return n === -1 || (n !== undefined && n >= 3_600_000) ? n : undefined;
  },
};

/** A comma-separated list of format names; empty or `none` for none. */
const formatList: SettingParser<readonly string[]> = {
  expects: 'format names separated by commas (e.g. ocsf,cef), or none',
  parse: (raw) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed === 'none') return [];
    const names = trimmed.split(',').map((name) => name.trim());
    return names.every((name) => /^[a-z0-9]+$/.test(name)) ? [...new Set(names)] : undefined;
  },
};

/** The environment variables of the topics (see docs/configuration.md). */
export const TOPIC_SETTINGS = {
  eventsTopic: setting({
    name: 'AUDIT_TOPIC',
    parser: topicName,
    default: TOPIC_DEFAULTS.eventsTopic,
    doc: 'events topic',
  }),
  dlqTopic: setting({
    name: 'AUDIT_DLQ_TOPIC',
    parser: topicName,
    defaultDoc: '`<AUDIT_TOPIC>.dlq`',
    doc: 'dead-letter topic',
  }),
  alertsTopic: setting({
    name: 'AUDIT_ALERTS_TOPIC',
    parser: topicName,
    default: TOPIC_DEFAULTS.alertsTopic,
    doc: 'alerts topic',
  }),
  exportRequestsTopic: setting({
    name: 'AUDIT_EXPORT_REQUESTS_TOPIC',
    parser: topicName,
    default: TOPIC_DEFAULTS.exportRequestsTopic,
    doc: 'export requests, read by the exporter group',
  }),
  exportResultsTopic: setting({
    name: 'AUDIT_EXPORT_RESULTS_TOPIC',
    parser: topicName,
    default: TOPIC_DEFAULTS.exportResultsTopic,
    doc: 'export results, written by the exporter group in transactions (read them read_committed)',
  }),
  siemFeedFormats: setting({
    name: 'AUDIT_SIEM_FEED_FORMATS',
    parser: formatList,
    default: TOPIC_DEFAULTS.siemFeedFormats,
    defaultDoc: '`ocsf,ecs,cef`',
    doc: 'SIEM formats whose feed topics `<AUDIT_TOPIC>.<format>` `topics ensure` creates (`none`: no feed topic)',
  }),
  partitions: setting({
    name: 'AUDIT_TOPIC_PARTITIONS',
    parser: positiveInteger,
    default: TOPIC_DEFAULTS.partitions,
    doc: 'partitions of new topics',
  }),
  replicationFactor: setting({
    name: 'AUDIT_TOPIC_REPLICATION',
    parser: positiveInteger,
    defaultDoc: 'min(3, brokers)',
    doc: 'replication factor of new topics',
  }),
  minInsyncReplicas: setting({
    name: 'AUDIT_TOPIC_MIN_INSYNC',
    parser: positiveInteger,
    defaultDoc: 'min(2, replication)',
    doc: '`min.insync.replicas` of new topics',
  }),
  retentionMs: setting({
    name: 'AUDIT_TOPIC_RETENTION_MS',
    parser: retention,
    default: TOPIC_DEFAULTS.retentionMs,
    defaultDoc: '2592000000 (30 days)',
    doc: '`retention.ms` of new topics (-1: forever)',
  }),
  monitorRetentionMs: setting({
    name: 'AUDIT_MONITOR_RETENTION_MS',
    parser: retention,
    default: TOPIC_DEFAULTS.monitorRetentionMs,
    defaultDoc: '2592000000 (30 days)',
    doc: "`retention.ms` of the monitor's keyed topic `<AUDIT_TOPIC>.monitor`: the history its rules are rebuilt from (-1: forever)",
  }),
} as const;

export function topicSettingsFromEnv(env: Env = process.env): TopicSettings {
  const s = TOPIC_SETTINGS;
  const eventsTopic = readSetting(env, s.eventsTopic);
  return {
    eventsTopic,
    dlqTopic: readSetting(env, s.dlqTopic) ?? `${eventsTopic}.dlq`,
    alertsTopic: readSetting(env, s.alertsTopic),
    exportRequestsTopic: readSetting(env, s.exportRequestsTopic),
    exportResultsTopic: readSetting(env, s.exportResultsTopic),
    siemFeedFormats: readSetting(env, s.siemFeedFormats),
    partitions: readSetting(env, s.partitions),
    replicationFactor: readSetting(env, s.replicationFactor),
    minInsyncReplicas: readSetting(env, s.minInsyncReplicas),
    retentionMs: readSetting(env, s.retentionMs),
    monitorRetentionMs: readSetting(env, s.monitorRetentionMs),
  };
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/**
 * The desired topics for a cluster of `brokerCount` brokers (pure). The
 * monitor's keyed topic gets as many partitions as the events topic has
 * (`eventsPartitions`, when it exists already), so that both steps of the
 * monitor spread alike over the group.
 */
export function desiredTopics(
  settings: TopicSettings,
  brokerCount: number,
  eventsPartitions = settings.partitions,
): TopicSpec[] {
  const replicationFactor = settings.replicationFactor ?? Math.min(3, brokerCount);
  if (replicationFactor > brokerCount) {
    throw new ConfigError(
      'AUDIT_TOPIC_REPLICATION',
      `is ${replicationFactor} but the cluster has ${brokerCount} brokers`,
    );
  }
  const minInsync = settings.minInsyncReplicas ?? Math.min(2, replicationFactor);
  if (minInsync > replicationFactor) {
    throw new ConfigError(
      'AUDIT_TOPIC_MIN_INSYNC',
      `is ${minInsync}, more than the replication factor ${replicationFactor}`,
    );
  }
  const configs = {
    'cleanup.policy': 'delete',
    'retention.ms': String(settings.retentionMs),
    'min.insync.replicas': String(minInsync),
    'unclean.leader.election.enable': 'false',
    'message.timestamp.type': 'CreateTime',
  };
  const topic = (name: string): TopicSpec => ({
    name,
    partitions: settings.partitions,
    replicationFactor,
    configs: { ...configs },
  });
  return [
    ...[
      settings.eventsTopic,
      settings.dlqTopic,
      settings.alertsTopic,
      alertsOcsfTopic(settings.alertsTopic),
      settings.exportRequestsTopic,
      settings.exportResultsTopic,
      ...settings.siemFeedFormats.map((format) => `${settings.eventsTopic}.${format}`),
    ].map(topic),
    {
      ...topic(monitorKeyedTopic(settings.eventsTopic)),
      partitions: eventsPartitions,
      configs: { ...configs, 'retention.ms': String(settings.monitorRetentionMs) },
    },
  ];
}

export interface ActualTopic {
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string | undefined>;
}

/** Differences between a desired and an existing topic, one line each (pure). */
export function topicDrift(spec: TopicSpec, actual: ActualTopic): string[] {
  const drift: string[] = [];
  if (actual.partitions !== spec.partitions)
    drift.push(`partitions is ${actual.partitions}, expected ${spec.partitions}`);
  if (actual.replicationFactor !== spec.replicationFactor) {
    drift.push(
      `replication factor is ${actual.replicationFactor}, expected ${spec.replicationFactor}`,
    );
  }
  for (const [name, value] of Object.entries(spec.configs)) {
    if (actual.configs[name] !== value)
      drift.push(`${name} is ${actual.configs[name] ?? '(unset)'}, expected ${value}`);
  }
  return drift;
}

export interface EnsureReport {
  created: string[];
  unchanged: string[];
  drift: { topic: string; problems: string[] }[];
}

export async function ensureTopics(admin: Admin, settings: TopicSettings): Promise<EnsureReport> {
  const cluster = await admin.describeCluster();
  const existing = new Set(await admin.listTopics());
  const eventsPartitions = existing.has(settings.eventsTopic)
    ? (await admin.fetchTopicMetadata({ topics: [settings.eventsTopic] })).topics[0]?.partitions
        .length
    : undefined;
  const specs = desiredTopics(settings, cluster.brokers.length, eventsPartitions);
  const missing = specs.filter((spec) => !existing.has(spec.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const report: EnsureReport = { created: missing.map((s) => s.name), unchanged: [], drift: [] };
  const present = specs.filter((spec) => existing.has(spec.name));
  if (present.length === 0) return report;
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((s) => ({
      type: kafkajs.ConfigResourceTypes.TOPIC,
      name: s.name,
      configNames: Object.keys(s.configs),
    })),
  });
  for (const spec of present) {
    const topicMeta = metadata.topics.find((t) => t.name === spec.name);
    const resource = described.resources.find((r) => r.resourceName === spec.name);
    const problems = topicDrift(spec, {
      partitions: topicMeta?.partitions.length ?? 0,
      replicationFactor: topicMeta?.partitions[0]?.replicas.length ?? 0,
      configs: Object.fromEntries(
        (resource?.configEntries ?? []).map((c) => [c.configName, c.configValue]),
      ),
    });
    if (problems.length === 0) report.unchanged.push(spec.name);
    else report.drift.push({ topic: spec.name, problems });
  }
  return report;
}
