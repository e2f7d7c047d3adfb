/** Every cross-field rule, in the order their problems are listed (after the schema's own). */
import type { Rule } from './context';
import {
  envoyAdminApart,
  healthCheckTimeoutBelowInterval,
  hostMatchingFitsRegions,
  messageTimeoutExceedsLookup,
  siblingsAreRegions,
  tlsListenerKeepsTls,
} from './envoy';
import { listenersDiffer } from './listen';
import { notificationsSecretSet } from './notifications';
import {
  azureCredentialsOneKind,
  freshnessReadsLocalStorage,
  lookupHasWhatItNeeds,
  preferenceNamesSiblings,
  regionIsDeclared,
  regionsAreDistinct,
  s3CredentialsPaired,
} from './regions';

export const RULES: readonly Rule[] = [
  regionsAreDistinct,
  s3CredentialsPaired,
  azureCredentialsOneKind,
  lookupHasWhatItNeeds,
  freshnessReadsLocalStorage,
  regionIsDeclared,
  listenersDiffer,
  preferenceNamesSiblings,
  notificationsSecretSet,
  envoyAdminApart,
  hostMatchingFitsRegions,
  messageTimeoutExceedsLookup,
  siblingsAreRegions,
  healthCheckTimeoutBelowInterval,
  tlsListenerKeepsTls,
];
