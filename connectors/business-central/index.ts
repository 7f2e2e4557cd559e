/** Business Central API v2.0 connector: the class, its options and the pure helpers it is built from. */
export { BusinessCentralConnector, BusinessCentralRequestError } from './business-central-connector';
export {
  BUSINESS_CENTRAL_DEFAULTS,
  BUSINESS_CENTRAL_LIMITS,
  BUSINESS_CENTRAL_SCOPE,
  defaultApiUrl,
  type BusinessCentralConnectorOptions,
  type BusinessCentralCredentials,
  type BusinessCentralTableOptions,
} from './options';
export { recordNumberFor, DEFAULT_NUMBER_PREFIX } from './record-number';
export { MAX_BATCH_OPERATIONS, ENTITY_EXISTS_CODE, ENTITY_CHANGED_CODE } from './batch';
export { entraTokenUrl } from '../http/token-client';
