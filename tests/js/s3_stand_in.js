// The S3 stand-in that tests/s3_server.cpp starts: s3rver (ListObjectsV2 with continuation tokens,
// GetObject, PutObject, S3's XML errors) plus the one check s3rver leaves out: it accepts any
// SigV4 signature from a known access key, so this verifies each signature as AWS would.
// Usage: node --openssl-legacy-provider s3_stand_in.js <data directory> (s3rver's continuation
// tokens use DES); prints "listening <port>" once it accepts requests.
'use strict';

const crypto = require('crypto');
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');

// s3rver's built-in account; any other access key id is answered with InvalidAccessKeyId.
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const EMPTY_SHA256 = crypto.createHash('sha256').digest('hex');

// AWS's URI encoding: everything but A-Z a-z 0-9 - _ . ~ as %XY (upper-case hex) of UTF-8 bytes.
function awsEncode(text) {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch (e) {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI: ${text}`);
  }
}

// The canonical request AWS computes: it decodes the path and query it received and re-encodes
// them, so a client that encodes differently (an unencoded '+', a lower-case escape, an unsorted
// query) fails here as it would against S3.
function canonicalRequest(ctx, signedHeaders, payloadHash) {
  const [rawPath, rawQuery = ''] = ctx.req.url.split(/\?(.*)/s);
  const path = rawPath
    .split('/')
    .map(segment => awsEncode(decode(segment)))
    .join('/');
  const query = rawQuery
    .split('&')
    .filter(pair => pair !== '')
    .map(pair => {
      const [name, value = ''] = pair.split(/=(.*)/s);
      return [awsEncode(decode(name)), awsEncode(decode(value))];
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = signedHeaders
    .map(name => {
      const value = ctx.req.headers[name];
      if (value === undefined) {
        throw new S3Error(
          'AccessDenied',
          `There were headers present in the request which were not signed: ${name}`,
        );
      }
      return `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  return [ctx.method, path, query, headers, signedHeaders.join(';'), payloadHash].join('\n');
}

function hmac(key, data) {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

async function verifySigV4(ctx, next) {
  const authorization = ctx.get('authorization');
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) return next();
  const fields = Object.fromEntries(
    authorization
      .slice('AWS4-HMAC-SHA256 '.length)
      .split(',')
      .map(part => part.trim().split(/=(.*)/s)),
  );
  const [accessKeyId, date, region, service, terminator] = (fields.Credential || '').split('/');
  if (!fields.SignedHeaders || !fields.Signature || terminator !== 'aws4_request') {
    throw new S3Error('AuthorizationHeaderMalformed', `Malformed authorization: ${authorization}`);
  }
  if (accessKeyId !== ACCESS_KEY_ID) return next(); // s3rver answers InvalidAccessKeyId
  const signedHeaders = fields.SignedHeaders.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256']) {
    if (!signedHeaders.includes(required)) {
      throw new S3Error('AccessDenied', `The header ${required} must be signed`);
    }
  }
  const payloadHash = ctx.get('x-amz-content-sha256');
  const bodyless = !ctx.get('content-length') || ctx.get('content-length') === '0';
  if (bodyless && payloadHash !== EMPTY_SHA256 && payloadHash !== 'UNSIGNED-PAYLOAD') {
    throw new S3Error(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const amzDate = ctx.get('x-amz-date');
  const canonical = canonicalRequest(ctx, signedHeaders, payloadHash);
  const scope = [date, region, service, 'aws4_request'].join('/');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    crypto.createHash('sha256').update(canonical, 'utf8').digest('hex'),
  ].join('\n');
  let key = hmac('AWS4' + SECRET_ACCESS_KEY, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign).toString('hex');
  if (expected !== fields.Signature) {
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your key and signing method.',
      { CanonicalRequest: canonical, StringToSign: stringToSign },
    );
  }
  return next();
}

async function main() {
  const directory = process.argv[2];
  if (!directory) {
    console.error('usage: node s3_stand_in.js <data directory>');
    process.exit(2);
  }
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
  });
  // Before s3rver's own middleware, so that nothing is stored or listed for a bad signature.
  server.middleware.unshift(verifySigV4);
  const { port } = await server.run();
  process.stdout.write(`listening ${port}\n`);
  // The parent (the C++ test) holds our stdin: when it goes away, so does the stand-in.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
