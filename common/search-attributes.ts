/** Typed keys of the custom search attributes; registered on the dev server and set by every workflow. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_MAPPING, SEARCH_ATTRIBUTE_RUN_KIND } from './constants';

export const MAPPING_SEARCH_ATTRIBUTE = defineSearchAttributeKey(SEARCH_ATTRIBUTE_MAPPING, SearchAttributeType.KEYWORD);
export const RUN_KIND_SEARCH_ATTRIBUTE = defineSearchAttributeKey(SEARCH_ATTRIBUTE_RUN_KIND, SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTE_KEYS = [MAPPING_SEARCH_ATTRIBUTE, RUN_KIND_SEARCH_ATTRIBUTE];
