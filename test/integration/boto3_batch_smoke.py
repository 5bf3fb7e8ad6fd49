"""boto3 against the simulator's S3 subset and model invocation jobs.

Usage: python3 boto3_batch_smoke.py http://127.0.0.1:PORT
S3 with path-style addressing and botocore's default checksums; a job created, repeated with
its clientRequestToken, followed to its end, listed, and its manifest read back.
Prints one JSON object with what each call returned.
"""

import io
import json
import sys

import boto3
from botocore.config import Config

URL = sys.argv[1]
KW = dict(endpoint_url=URL, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}), **KW)
bedrock = boto3.client("bedrock", config=Config(retries={"max_attempts": 1}), **KW)
out = {}

s3.create_bucket(Bucket="boto")
try:
    s3.create_bucket(Bucket="boto")
except s3.exceptions.BucketAlreadyOwnedByYou:
    out["alreadyOwned"] = True
records = "".join(
    json.dumps(
        {
            "recordId": f"r{i}",
            "modelInput": {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 30,
                "messages": [{"role": "user", "content": f"hello {i}"}],
            },
        }
    )
    + "\n"
    for i in range(100)
)
s3.put_object(Bucket="boto", Key="in/records.jsonl", Body=records.encode())
s3.upload_fileobj(io.BytesIO(b"streamed body"), "boto", "in/stream.bin")
out["streamed"] = s3.get_object(Bucket="boto", Key="in/stream.bin")["Body"].read().decode()
out["listed"] = [o["Key"] for o in s3.list_objects_v2(Bucket="boto", Prefix="in/")["Contents"]]
try:
    s3.get_object(Bucket="boto", Key="missing")
except s3.exceptions.NoSuchKey:
    out["noSuchKey"] = True

request = dict(
    jobName="boto-1",
    roleArn="arn:aws:iam::111122223333:role/BatchInference",
    modelId="anthropic.claude-3-haiku-20240307-v1:0",
    inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://boto/in/records.jsonl"}},
    outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://boto/out/"}},
    clientRequestToken="boto-token-1",
)
arn = bedrock.create_model_invocation_job(**request)["jobArn"]
out["sameArn"] = bedrock.create_model_invocation_job(**request)["jobArn"] == arn
# A safety net only: the simulator runs at a time scale that ends the job in milliseconds.
for _ in range(100000):
    job = bedrock.get_model_invocation_job(jobIdentifier=arn)
    if job["status"] in ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired"):
        break
out["status"] = job["status"]
out["successRecordCount"] = job["successRecordCount"]
out["listedCompleted"] = len(bedrock.list_model_invocation_jobs(statusEquals="Completed")["invocationJobSummaries"])
job_id = arn.split("/")[-1]
out["manifest"] = json.loads(s3.get_object(Bucket="boto", Key=f"out/{job_id}/manifest.json.out")["Body"].read())
first = s3.get_object(Bucket="boto", Key=f"out/{job_id}/records.jsonl.out")["Body"].read().decode().split("\n")[0]
out["firstOutput"] = json.loads(first)["modelOutput"]["type"]
print(json.dumps(out))
