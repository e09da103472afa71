// An independent check of Tessera's badges with Digital Bazaar's verifier, offline.
//
//   node tests/badges/verify.mjs CASE.json
//
// CASE.json is {"credential": {...}, "documents": {"<url>": {...}}, "now": "<ISO date>"?}:
// `documents` holds what a verifier would fetch (the issuer's DID document, the status list
// credential). JSON-LD contexts come from Digital Bazaar's own package where it has them
// (credentials/v2) and otherwise from the files Tessera bundles (badges/contexts/INDEX.json).
// Nothing is ever fetched: an unknown URL is an error.
//
// Prints one JSON object:
//   {"verified": bool, "signature": bool, "status": "valid" | "revoked" | "invalid",
//    "revoked": bool | null, "errors": [string]}
// `signature` is the proof check alone (@digitalbazaar/vc + data-integrity + eddsa-rdfc-2022);
// `revoked` is the credential's revocation bit in the signed status list (null without one);
// `verified` is both together. Exit status 0 whenever a result was printed.

import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as vc from '@digitalbazaar/vc';
import {checkStatus as checkBitstringStatus} from '@digitalbazaar/vc-bitstring-status-list';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONTEXTS = join(ROOT, 'badges', 'contexts');

function bundledContexts() {
  const index = JSON.parse(readFileSync(join(CONTEXTS, 'INDEX.json'), 'utf8'));
  const documents = new Map();
  for(const [url, file] of Object.entries(index)) {
    documents.set(url, JSON.parse(readFileSync(join(CONTEXTS, file), 'utf8')));
  }
  return documents;
}

// A document loader over fixed documents. A DID URL with a fragment (`did:...#key`) resolves
// to that verification method of the DID document, with the document's @context, as
// resolvers do.
export function offlineDocumentLoader(provided) {
  const documents = bundledContexts();
  for(const [url, context] of credentialsContexts) {
    documents.set(url, context);
  }
  for(const [url, document] of Object.entries(provided || {})) {
    documents.set(url, document);
  }
  const answer = (url, document) => ({
    contextUrl: null,
    documentUrl: url,
    document: structuredClone(document)
  });
  return async url => {
    if(documents.has(url)) {
      return answer(url, documents.get(url));
    }
    const hash = url.indexOf('#');
    if(hash > 0) {
      const controller = documents.get(url.slice(0, hash));
      const methods = [].concat(controller?.verificationMethod ?? []);
      const method = methods.find(
        m => m && (m.id === url || m.id === url.slice(hash)));
      if(method) {
        return answer(url, {
          '@context': controller['@context'],
          ...method,
          id: url
        });
      }
    }
    throw new Error(`Offline document loader: no document for ${url} (never fetched).`);
  };
}

function messages(error) {
  if(!error) {
    return [];
  }
  const list = Array.isArray(error) ? error : [error];
  return list.flatMap(e => {
    const nested = e?.errors ? messages(e.errors) : [];
    return [String(e?.message ?? e), ...nested];
  });
}

export async function verify({credential, documents, now}) {
  const documentLoader = offlineDocumentLoader(documents);
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  let revoked = null;
  const statusErrors = [];

  // the Bitstring Status List check: loads the list credential, verifies its own proof and
  // issuer, then reads the bit (most significant bit first in each byte)
  async function checkStatus(options) {
    const result = await checkBitstringStatus({
      ...options,
      verifyBitstringStatusListCredential: true,
      verifyMatchingIssuers: true
    });
    if(result.verified) {
      revoked = result.results.some(
        r => r.credentialStatus.statusPurpose === 'revocation' && r.status === true);
    } else {
      statusErrors.push(...messages(result.error));
    }
    return result;
  }

  const result = await vc.verifyCredential({
    credential,
    suite,
    documentLoader,
    checkStatus,
    ...(now ? {now} : {})
  });
  const errors = [
    ...messages(result.error),
    ...(result.results ?? []).flatMap(r => messages(r.error)),
    ...statusErrors
  ];
  const signature = (result.results ?? []).length > 0 &&
    result.results.every(r => r.verified);
  let status = 'invalid';
  if(result.verified && revoked) {
    status = 'revoked';
  } else if(result.verified) {
    status = 'valid';
  }
  return {
    verified: status === 'valid',
    signature,
    status,
    revoked,
    errors: [...new Set(errors)]
  };
}

const isMain = process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1];
if(isMain) {
  const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const output = await verify(input);
  process.stdout.write(JSON.stringify(output) + '\n');
}
