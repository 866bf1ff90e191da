#!/bin/bash
# ppf slurm --dry-run: the jobs for /scratch/ppf-run.
# Collect all 8 shards (0-7), then merge them into data.jsonl
# and train predictor.json and agent.json; each job runs after the one
# before it succeeded. Running this script submits them.
set -euo pipefail
mkdir -p /scratch/ppf-run/shards /scratch/ppf-run/logs

# 1. collect (array 0-7: one task per shard)
collect=$(sbatch --parsable <<'PPF_JOB'
#!/bin/bash
#SBATCH --job-name=ppf-collect
#SBATCH --output=/scratch/ppf-run/logs/collect-%A_%a.out
#SBATCH --chdir=/scratch/ppf-run
#SBATCH --array=0-7
#SBATCH --partition=gpu
#SBATCH --time=2:00:00
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --gres=gpu:1
set -euo pipefail
export PPF_MODELS=/shared/models
export PPF_DATA=/shared/data
# Go would use every CPU of the node, not the task's.
export GOMAXPROCS=4
# Task i measures shard i of 8 and resumes its file when it is run again.
# The shard count is written out: a resubmitted array holds only unfinished shards.
exec /opt/ppf/bin/ppf collect --model stories260K \
    --text tinystories/TinyStories-valid-excerpt.txt --search-tokens 4096 \
    --seqlen 256 --units flap --backend cuda-bf16 --samples 4000 --seed 1 \
    --ratio-min 0.02 --ratio-max 0.65 --shard "${SLURM_ARRAY_TASK_ID}/8" \
    --out "/scratch/ppf-run/shards/${SLURM_ARRAY_TASK_ID}-of-8.jsonl"
PPF_JOB
)
collect=${collect%%;*} # --parsable prints ID or ID;CLUSTER

# 2. merge, once collect has succeeded
merge=$(sbatch --parsable --dependency=afterok:$collect <<'PPF_JOB'
#!/bin/bash
#SBATCH --job-name=ppf-merge
#SBATCH --output=/scratch/ppf-run/logs/merge-%j.out
#SBATCH --chdir=/scratch/ppf-run
#SBATCH --partition=gpu
#SBATCH --time=2:00:00
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
set -euo pipefail
export PPF_MODELS=/shared/models
export PPF_DATA=/shared/data
# Go would use every CPU of the node, not the task's.
export GOMAXPROCS=4
# Every shard file, named one by one: a missing shard is an error, not a smaller dataset.
exec /opt/ppf/bin/ppf collect --merge \
    --out /scratch/ppf-run/data.jsonl /scratch/ppf-run/shards/0-of-8.jsonl \
    /scratch/ppf-run/shards/1-of-8.jsonl /scratch/ppf-run/shards/2-of-8.jsonl \
    /scratch/ppf-run/shards/3-of-8.jsonl /scratch/ppf-run/shards/4-of-8.jsonl \
    /scratch/ppf-run/shards/5-of-8.jsonl /scratch/ppf-run/shards/6-of-8.jsonl \
    /scratch/ppf-run/shards/7-of-8.jsonl
PPF_JOB
)
merge=${merge%%;*} # --parsable prints ID or ID;CLUSTER

# 3. train, once merge has succeeded
train=$(sbatch --parsable --dependency=afterok:$merge <<'PPF_JOB'
#!/bin/bash
#SBATCH --job-name=ppf-train
#SBATCH --output=/scratch/ppf-run/logs/train-%j.out
#SBATCH --chdir=/scratch/ppf-run
#SBATCH --partition=gpu
#SBATCH --time=2:00:00
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
set -euo pipefail
export PPF_MODELS=/shared/models
export PPF_DATA=/shared/data
# Go would use every CPU of the node, not the task's.
export GOMAXPROCS=4
# The predictor on the merged data, then the agent against the predictor.
/opt/ppf/bin/ppf train-predictor --model stories260K \
    --data /scratch/ppf-run/data.jsonl --out /scratch/ppf-run/predictor.json \
    --test 0.2 --seed 1
/opt/ppf/bin/ppf train-agent \
    --predictor /scratch/ppf-run/predictor.json --model stories260K \
    --out /scratch/ppf-run/agent.json --steps 400 --seed 1
PPF_JOB
)
train=${train%%;*} # --parsable prints ID or ID;CLUSTER
echo "submitted:${collect:+ collect $collect,} merge $merge, train $train"
