export {
  AesGcmPayloadCodec,
  codecDataConverterFromEnv,
  codecKeyId,
  parseCodecKey,
  CodecKeyError,
  PayloadDecryptionError,
  CODEC_ENV,
  ENCRYPTED_ENCODING,
  type AesGcmPayloadCodecOptions,
} from './aes-gcm-codec';
export { startCodecServer, CodecServerConfigError, type CodecServer, type CodecServerOptions } from './codec-server';
