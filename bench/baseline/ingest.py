"""The seed's approach, as a Python user would write it: the reference the Node service must beat.

concurrent.futures.ProcessPoolExecutor over the files; each worker reads its file with gzip +
json, cleans every record the way the service does (v1.1 tweets, their embedded originals,
delete notices, stream notices; see src/pipeline/clean.ts) and writes rows with psycopg2
execute_values ... ON CONFLICT DO NOTHING, committing every batch.

Run with Debian's interpreter, which has psycopg2 (python3-psycopg2):
    /usr/bin/python3 bench/baseline/ingest.py FOLDER --dsn postgres://... [--workers N]
It writes into an already migrated tweet-ingest database (tables tweets, tweet_deletions) and
prints one JSON line of counts on stdout.
"""

import argparse
import concurrent.futures
import datetime
import gzip
import json
import os
import re
import sys

import psycopg2
import psycopg2.extras

BATCH_ROWS = 5000  # same batch size as the Node writer
PAGE_SIZE = 1000  # rows per INSERT statement inside execute_values
MAX_EMBEDDING_DEPTH = 8
DECIMAL_ID = re.compile(r"(?:0|[1-9]\d{0,18})\Z")
MAX_BIGINT = 9223372036854775807
NOTICE_KEYS = ("limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect",
               "warning", "event", "friends", "friends_str")

INSERT_TWEETS = """
    INSERT INTO tweets (id, created_at, user_id, user_screen_name, text, lang, retweeted_id,
                        quoted_id, in_reply_to_id, hashtags, mentions, urls, source_file_id)
    SELECT v.* FROM (VALUES %s) AS v(id, created_at, user_id, user_screen_name, text, lang,
                        retweeted_id, quoted_id, in_reply_to_id, hashtags, mentions, urls,
                        source_file_id)
    WHERE NOT EXISTS (SELECT 1 FROM tweet_deletions d WHERE d.id = v.id)
    ON CONFLICT (id) DO NOTHING
"""
TWEET_TEMPLATE = ("(%s::bigint, %s::timestamptz, %s::bigint, %s, %s, %s, %s::bigint, %s::bigint,"
                  " %s::bigint, %s::text[], %s::text[], %s::text[], %s::bigint)")
INSERT_DELETIONS = """
    INSERT INTO tweet_deletions (id, user_id, deleted_at, source_file_id) VALUES %s
    ON CONFLICT (id) DO NOTHING
"""
DELETION_TEMPLATE = "(%s::bigint, %s::bigint, %s::timestamptz, %s::bigint)"


def tweet_id(value):
    if not isinstance(value, str) or not DECIMAL_ID.match(value):
        return None
    return value if int(value) <= MAX_BIGINT else None


def iso_from_timestamp_ms(value):
    if isinstance(value, str) and value.isdigit() and len(value) <= 15:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.datetime.fromtimestamp(value / 1000, datetime.timezone.utc).isoformat()
        except (OverflowError, ValueError, OSError):
            return None
    return None


def twitter_date(text):
    try:
        return datetime.datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y").isoformat()
    except (TypeError, ValueError):
        return None


def obj(parent, key):
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else None


def string(parent, key):
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, str) else None


def array(parent, key):
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, list) else []


def strings_of(items, key):
    return [item[key] for item in items if isinstance(item, dict) and isinstance(item.get(key), str)]


def no_nul(text):
    return text.replace("\x00", "") if text is not None and "\x00" in text else text


def _full_text(tweet):
    for value in (string(obj(tweet, "extended_tweet"), "full_text"), string(tweet, "full_text"),
                  string(tweet, "text")):
        if value is not None:
            return value
    return ""


def entities_of(tweet):
    return obj(obj(tweet, "extended_tweet"), "entities") or obj(tweet, "entities")


def v1_row(tweet, file_id):
    """One tweets row, or None when the tweet has no usable id or created_at."""
    id_ = tweet_id(tweet.get("id_str"))
    if id_ is None:
        return None
    created = string(tweet, "created_at")
    created_at = (twitter_date(created) if created is not None else None) \
        or iso_from_timestamp_ms(tweet.get("timestamp_ms"))
    if created_at is None:
        return None
    user = obj(tweet, "user")
    retweeted = obj(tweet, "retweeted_status")
    retweeted_author = string(obj(retweeted, "user"), "screen_name")
    if retweeted is not None and retweeted_author is not None:
        entities = entities_of(retweeted)
        text = "RT @%s: %s" % (retweeted_author, _full_text(retweeted))
        mentions = [retweeted_author] + strings_of(array(entities, "user_mentions"), "screen_name")
    else:
        entities = entities_of(tweet)
        text = _full_text(tweet)
        mentions = strings_of(array(entities, "user_mentions"), "screen_name")
    urls = []
    for url in array(entities, "urls"):
        if isinstance(url, dict):
            value = string(url, "expanded_url")
            if value is None:
                value = string(url, "url")
            if value is not None:
                urls.append(no_nul(value))
    quoted_id = tweet_id(tweet.get("quoted_status_id_str"))
    if quoted_id is None:
        quoted_id = tweet_id((obj(tweet, "quoted_status") or {}).get("id_str"))
    return (
        id_, created_at, tweet_id((user or {}).get("id_str")), no_nul(string(user, "screen_name")),
        no_nul(text), no_nul(string(tweet, "lang")),
        tweet_id(retweeted.get("id_str")) if retweeted is not None else None,
        quoted_id, tweet_id(tweet.get("in_reply_to_status_id_str")),
        [no_nul(tag) for tag in strings_of(array(entities, "hashtags"), "text")],
        [no_nul(name) for name in mentions], urls, file_id,
    )


def add_embedded(tweet, rows, seen, depth, file_id):
    if depth > MAX_EMBEDDING_DEPTH:
        return
    for embedded in (obj(tweet, "retweeted_status"), obj(tweet, "quoted_status")):
        if embedded is None:
            continue
        row = v1_row(embedded, file_id)
        if row is None or row[0] in seen:
            continue
        seen.add(row[0])
        rows.append(row)
        add_embedded(embedded, rows, seen, depth + 1, file_id)


def is_v1_tweet(value):
    return (isinstance(value.get("id_str"), str) and isinstance(value.get("user"), dict)
            and (isinstance(value.get("text"), str) or isinstance(value.get("full_text"), str)
                 or string(obj(value, "extended_tweet"), "full_text") is not None))


def flush(connection, tweets, deletions):
    # Two workers inserting overlapping ids (the same original embedded in tweets of different
    # files) in different orders deadlock; inserting in id order makes the lock order the same.
    tweets.sort(key=lambda row: int(row[0]))
    deletions.sort(key=lambda row: int(row[0]))
    with connection.cursor() as cursor:
        if deletions:
            psycopg2.extras.execute_values(cursor, INSERT_DELETIONS, deletions,
                                           template=DELETION_TEMPLATE, page_size=PAGE_SIZE)
            cursor.execute("DELETE FROM tweets WHERE id = ANY(%s::bigint[])",
                           ([deletion[0] for deletion in deletions],))
        if tweets:
            psycopg2.extras.execute_values(cursor, INSERT_TWEETS, tweets,
                                           template=TWEET_TEMPLATE, page_size=PAGE_SIZE)
    connection.commit()


def ingest_file(path, file_id, dsn):
    counts = {"records": 0, "tweet_records": 0, "tweets": 0, "deletes": 0, "notices": 0,
              "rejected": 0}
    connection = psycopg2.connect(dsn)
    tweets, deletions = [], []
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                line = line.strip()
                if not line:
                    continue
                counts["records"] += 1
                try:
                    value = json.loads(line)
                except ValueError:
                    counts["rejected"] += 1
                    continue
                if not isinstance(value, dict):
                    counts["rejected"] += 1
                elif isinstance(value.get("delete"), dict):
                    delete = value["delete"]
                    status = obj(delete, "status") or {}
                    id_ = tweet_id(status.get("id_str"))
                    if id_ is None:
                        counts["rejected"] += 1
                        continue
                    counts["deletes"] += 1
                    deleted_at = iso_from_timestamp_ms(delete.get("timestamp_ms", value.get("timestamp_ms")))
                    deletions.append((id_, tweet_id(status.get("user_id_str")), deleted_at, file_id))
                elif is_v1_tweet(value):
                    row = v1_row(value, file_id)
                    if row is None:
                        counts["rejected"] += 1
                        continue
                    rows = [row]
                    add_embedded(value, rows, {row[0]}, 1, file_id)
                    counts["tweet_records"] += 1
                    counts["tweets"] += len(rows)
                    tweets.extend(rows)
                elif any(key in value for key in NOTICE_KEYS):
                    counts["notices"] += 1
                else:
                    counts["rejected"] += 1
                if len(tweets) + len(deletions) >= BATCH_ROWS:
                    flush(connection, tweets, deletions)
                    tweets, deletions = [], []
        flush(connection, tweets, deletions)
    finally:
        connection.close()
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    paths = sorted(os.path.join(args.folder, name) for name in os.listdir(args.folder)
                   if name.endswith((".gz", ".json", ".jsonl")))
    totals = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(ingest_file, path, index + 1, args.dsn) for index, path in enumerate(paths)]
        for future in concurrent.futures.as_completed(futures):
            for key, value in future.result().items():
                totals[key] = totals.get(key, 0) + value
    # A deletion committed while another worker's batch still held the tweet cannot see it:
    # one last sweep makes "deleted stays deleted" hold whatever the interleaving.
    connection = psycopg2.connect(args.dsn)
    with connection, connection.cursor() as cursor:
        cursor.execute("DELETE FROM tweets t USING tweet_deletions d WHERE d.id = t.id")
    connection.close()
    totals["files"] = len(paths)
    print(json.dumps(totals))


if __name__ == "__main__":
    sys.exit(main())
