/** The Dataverse Web API connector and its option types. */
export { DataverseConnector, DataverseRequestError, MODIFIED_ON } from './dataverse-connector';
export {
  DATAVERSE_DEFAULTS,
  DATAVERSE_LIMITS,
  DataverseConfigurationError,
  type DataverseConnectorOptions,
  type DataverseCredentials,
  type DataverseTableOptions,
} from './options';
export { InvalidQueryError } from './odata-query';
export { entraTokenUrl } from '../http/token-client';
