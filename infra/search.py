"""Search (issue 18): the table stream's second event source mapping, to the search indexer.

    table stream --SEARCH_STREAM_FILTER--> search_indexer --> SEARCH# postings (same table)

The stream's last reader: AWS advises at most two processes per shard (the fan-out and this).
Message changes only (posts, edits, deletes), in batches reporting the first failed record
(ReportBatchItemFailures), bisected and retried SEARCH_INDEXER_STREAM_RETRIES times; a record
still failing, or older than delivery's MAX_RECORD_AGE_S, goes to the fan-out's dead-letter
queue (one DLQ for the stream's readers, already alarmed by monitoring). The function, its
role and least-privilege policy come from routes.FUNCTIONS and permissions.PERMISSIONS like
every other function's.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from dynamotalk.routes import FUNCTION_BY_MODULE
from dynamotalk.search_function import SEARCH_INDEXER, SEARCH_INDEXER_STREAM_RETRIES
from dynamotalk.tables.keys import SEARCH_STREAM_FILTER
from infra.delivery import MAX_RECORD_AGE_S, PARALLELIZATION_FACTOR
from infra.functions import LambdaFunction

INDEXER_FUNCTION = FUNCTION_BY_MODULE[SEARCH_INDEXER]


class SearchIndexing(pulumi.ComponentResource):
    """The indexer's mapping on the table's stream."""

    mapping: aws.lambda_.EventSourceMapping

    def __init__(
        self,
        name: str,
        stream_arn: pulumi.Input[str],
        indexer: LambdaFunction,
        dead_letters_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("dynamotalk:search:SearchIndexing", name, None, opts)
        self.mapping = aws.lambda_.EventSourceMapping(
            f"{name}-stream-indexer",
            event_source_arn=stream_arn,
            function_name=indexer.mapping_target,
            starting_position="LATEST",
            batch_size=INDEXER_FUNCTION.batch_size,
            filter_criteria=aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                filters=[
                    aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(
                        pattern=json.dumps(SEARCH_STREAM_FILTER)
                    )
                ]
            ),
            function_response_types=["ReportBatchItemFailures"],
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=SEARCH_INDEXER_STREAM_RETRIES,
            maximum_record_age_in_seconds=MAX_RECORD_AGE_S,
            # An edit after its post, a delete after both: one batch per shard keeps them in order.
            parallelization_factor=PARALLELIZATION_FACTOR,
            destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                    destination_arn=dead_letters_arn
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"searchIndexerMapping": self.mapping.uuid})
