/**
 * S3Proxy of the local stack: an S3-compatible server on 127.0.0.1 with the
 * filesystem backend and SigV4 authentication on, from Maven Central.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { fail, freePort, LIB, runningPid, say, STACK, startJava, stopPid } from './shared.js';

const S3_DIR = join(STACK, 's3proxy');
const S3_PID = join(STACK, 's3proxy.pid');
/** Credentials of the development stack's S3 server; nothing outside this machine uses them. */
const ACCESS_KEY = 'audit-dev-access-key';
const SECRET_KEY = 'audit-dev-secret-key';
const BUCKET = 'audit-archive';
const REGION = 'us-east-1';

function configure(port: number): string {
  mkdirSync(join(S3_DIR, 'logs'), { recursive: true });
  mkdirSync(join(S3_DIR, 'data'), { recursive: true });
  const properties = join(S3_DIR, 's3proxy.properties');
  writeFileSync(
    properties,
    [
      `s3proxy.endpoint=http://127.0.0.1:${port}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${ACCESS_KEY}`,
      `s3proxy.credential=${SECRET_KEY}`,
      'jclouds.provider=filesystem',
      // must be absolute: with a relative folder listings come back empty
      `jclouds.filesystem.basedir=${join(S3_DIR, 'data')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(S3_DIR, 'logback.xml'),
    [
      '<configuration>',
      '  <appender name="FILE" class="ch.qos.logback.core.FileAppender">',
      `    <file>${join(S3_DIR, 'logs', 's3proxy.log')}</file>`,
      '    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{30} - %msg%n</pattern></encoder>',
      '  </appender>',
      '  <logger name="org.gaul.shaded.org.eclipse.jetty" level="WARN"/>',
      '  <root level="INFO"><appender-ref ref="FILE"/></root>',
      '</configuration>',
      '',
    ].join('\n'),
  );
  return properties;
}

async function waitForS3(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // an anonymous request is refused (403) once the server is up
    const status = await fetch(endpoint).then(
      (response) => response.status,
      () => 0,
    );
    if (status !== 0) return;
    await sleep(200);
  }
  fail(
    `S3Proxy did not answer within ${timeoutMs / 1000} s; see ${join(S3_DIR, 'logs', 's3proxy.log')}`,
  );
}

export async function upS3(previous: Record<string, string>): Promise<Record<string, string>> {
  const port =
    previous['S3_ENDPOINT'] === undefined
      ? await freePort()
      : Number(new URL(previous['S3_ENDPOINT']).port);
  const endpoint = `http://127.0.0.1:${port}`;
  if (runningPid(S3_PID) === undefined) {
    const properties = configure(port);
    const pid = startJava(
      [
        '-Xms64m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:+ExitOnOutOfMemoryError',
        `-Dlogback.configurationFile=${join(S3_DIR, 'logback.xml')}`,
        '-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener',
        '-cp',
        `${LIB.s3proxy}/*`,
        'org.gaul.s3proxy.Main',
        '--properties',
        properties,
      ],
      S3_PID,
      join(S3_DIR, 'logs', 'stdout.log'),
    );
    say(`S3Proxy starting on ${endpoint} (pid ${pid})`);
  }
  await waitForS3(endpoint, 60_000);
  const client = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((error: Error) => {
    if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists')
      throw error;
  });
  client.destroy();
  say(`S3Proxy ready on ${endpoint}, bucket ${BUCKET}`);
  return {
    S3_ENDPOINT: endpoint,
    S3_BUCKET: BUCKET,
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: REGION,
  };
}

export function downS3(): Promise<void> {
  return stopPid('S3Proxy', S3_PID);
}

export function s3Status(): number | undefined {
  return runningPid(S3_PID);
}
