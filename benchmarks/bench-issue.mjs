// The reference signer of benchmarks/issue.py: Digital Bazaar's stack (@digitalbazaar/vc,
// data-integrity, eddsa-rdfc-2022-cryptosuite, ed25519-multikey; npm dev-dependencies) signing
// Open Badges 3.0 credentials in one node process, signing alone (no database, no queue).
//
//   node benchmarks/bench-issue.mjs CREDENTIAL.json [--count 300] [--warm-up 10]
//
// CREDENTIAL.json is one of Tessera's unsigned credentials (issue.py writes one). Each of the
// `--count` credentials is a copy of it with its own `id` and `credentialSubject.identifier`
// salt (as each of ours has), signed with `vc.issue` and a fresh Ed25519 key whose
// verification method is the credential's issuer DID. JSON-LD contexts come from
// @digitalbazaar/credentials-context and Tessera's bundled files (as tests/badges/verify.mjs
// loads them); nothing is fetched. The first `--warm-up` are not timed.
//
// Prints `reference credentials per second: N` (and the CPU time per credential).

import {readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';

import {offlineDocumentLoader} from '../tests/badges/verify.mjs';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}

const path = process.argv[2];
if(!path || path.startsWith('--')) {
  process.stderr.write('usage: node benchmarks/bench-issue.mjs CREDENTIAL.json [--count N]\n');
  process.exit(2);
}
const count = option('--count', 300);
const warmUp = option('--warm-up', 10);
const template = JSON.parse(readFileSync(path, 'utf8'));
delete template.proof;

const issuer = typeof template.issuer === 'string' ? template.issuer : template.issuer.id;
const keyPair = await Ed25519Multikey.generate({controller: issuer});
keyPair.id = `${issuer}#${keyPair.publicKeyMultibase}`;
const documentLoader = offlineDocumentLoader({});

function credential(i) {
  const copy = structuredClone(template);
  copy.id = `${template.id}-${i}`;
  const subject = copy.credentialSubject;
  for(const identifier of [].concat(subject?.identifier ?? [])) {
    identifier.salt = `${i}`.padStart(32, '0');
  }
  return copy;
}

async function issue(i) {
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: eddsaRdfc2022});
  return vc.issue({credential: credential(i), suite, documentLoader});
}

for(let i = 0; i < warmUp; i++) {
  await issue(-1 - i);
}
const cpuBefore = process.cpuUsage();
const began = performance.now();
for(let i = 0; i < count; i++) {
  const signed = await issue(i);
  if(!signed.proof) {
    throw new Error('no proof');
  }
}
const seconds = (performance.now() - began) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuMs = (cpu.user + cpu.system) / 1000 / count;
process.stdout.write(`reference: ${count} credentials in ${seconds.toFixed(2)} s, ` +
  `${cpuMs.toFixed(2)} ms CPU each\n`);
process.stdout.write(`reference credentials per second: ${(count / seconds).toFixed(1)}\n`);
