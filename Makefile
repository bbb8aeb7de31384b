# Two commands on a fresh machine: `make build` (install + build the embedded sample), `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
OUT ?= build

TRAIN_MODEL ?= $(OUT)/tiny-qwen2
SFT_CONFIG ?= train/configs/sft_smoke_cpu.yaml
DPO_CONFIG ?= train/configs/dpo_smoke_cpu.yaml
LAUNCH ?= $(BIN)/python

# Tools that pin what the toolkit's venv cannot hold get venvs of their own (the tests drive them as
# subprocesses): LLaMA-Factory 0.9.5 wants datasets <= 4.0 and trl <= 0.24; Label Studio brings Django.
TOOLS ?= .venvs
LLAMAFACTORY_STAMP := $(TOOLS)/llamafactory/.installed-stamp
LABELSTUDIO_STAMP := $(TOOLS)/labelstudio/.installed-stamp
LLAMAFACTORY_PINS := torch==2.13.0 transformers==5.6.0 datasets==4.0.0 trl==0.24.0 peft==0.18.1 \
	accelerate==1.11.0 omegaconf fire sentencepiece tiktoken einops 'tyro<0.9' protobuf scipy
# sentry-sdk 3 (a fresh install's choice since December 2026) refuses the send_default_pii option Label Studio
# 1.23 starts it with: the server exits at start-up.
LABELSTUDIO_PINS := label-studio==1.23.2 label-studio-sdk==2.1.2 'sentry-sdk>=2.16,<3'

.PHONY: install build spf test lint train eval bench clean tool-venvs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	# torch is pinned to the CPU build (torch==2.13.0) in the train extra; a bare torch pulls CUDA wheels.
	$(BIN)/pip install -q -e '.[train,dev,ray,studio,eval]'
	touch $(STAMP)

install: $(STAMP)

# LLaMA-Factory without its dependencies (--no-deps): its torchaudio/torchvision/gradio pins are for training
# and the web UI; the data loader needs only the pins above (torchaudio is met by a stub in the test).
$(LLAMAFACTORY_STAMP):
	$(PYTHON) -m venv $(TOOLS)/llamafactory
	$(TOOLS)/llamafactory/bin/pip install -q -U pip
	$(TOOLS)/llamafactory/bin/pip install -q $(LLAMAFACTORY_PINS)
	$(TOOLS)/llamafactory/bin/pip install -q --no-deps llamafactory==0.9.5
	touch $@

$(LABELSTUDIO_STAMP):
	$(PYTHON) -m venv $(TOOLS)/labelstudio
	$(TOOLS)/labelstudio/bin/pip install -q -U pip
	$(TOOLS)/labelstudio/bin/pip install -q $(LABELSTUDIO_PINS)
	touch $@

tool-venvs: $(LLAMAFACTORY_STAMP) $(LABELSTUDIO_STAMP)

build: $(STAMP)
	$(BIN)/cmedins build pipelines/sample.yaml --out $(OUT)/sample

spf: $(STAMP)
	$(BIN)/cmedins prefs build pipelines/spf.yaml --out $(OUT)/spf-sample

# SFT (LoRA) then DPO on the sample builds with a tiny local model on CPU. For the paper's GPU run:
#   make train TRAIN_MODEL=/models/Qwen2.5-14B SFT_CONFIG=train/configs/sft_qwen14b_lora.yaml \
#     DPO_CONFIG=train/configs/dpo_qwen14b_lora.yaml LAUNCH="$(BIN)/accelerate launch --num_processes 4"
train: build spf
	rm -rf $(OUT)/train
	test "$(TRAIN_MODEL)" != "$(OUT)/tiny-qwen2" || $(BIN)/python train/make_tiny_model.py --output_dir $(OUT)/tiny-qwen2 --corpus $(OUT)/sample $(OUT)/spf-sample
	$(LAUNCH) train/sft.py --config $(SFT_CONFIG) --model_name_or_path $(TRAIN_MODEL) --dataset_name $(OUT)/sample --output_dir $(OUT)/train/sft
	$(LAUNCH) train/dpo.py --config $(DPO_CONFIG) --model_name_or_path $(TRAIN_MODEL) --dataset_name $(OUT)/spf-sample --sft_adapter $(OUT)/train/sft --output_dir $(OUT)/train/dpo

# SPF evaluation on CPU: two systems' answers to the eval set (here the tiny model at two seeds), judged in both
# orders through a loopback OpenAI-compatible server that serves the tiny model; report + plot in $(EVAL_OUT).
# A random model writes no readable verdicts: the report counts them and says so. The paper's GPU setup: README.
EVAL_RECIPE ?= pipelines/eval_sample.yaml
EVAL_MODEL ?= $(OUT)/tiny-qwen2
EVAL_OUT ?= $(OUT)/eval
eval: build
	test "$(EVAL_MODEL)" != "$(OUT)/tiny-qwen2" || $(BIN)/python train/make_tiny_model.py --output_dir $(OUT)/tiny-qwen2 --corpus $(OUT)/sample
	rm -rf $(EVAL_OUT) && mkdir -p $(EVAL_OUT)
	$(BIN)/cmedins generate $(EVAL_RECIPE) --model $(EVAL_MODEL) --system tiny-seed1 --seed 1 --out $(EVAL_OUT)/answers-x.jsonl
	$(BIN)/cmedins generate $(EVAL_RECIPE) --model $(EVAL_MODEL) --system tiny-seed2 --seed 2 --out $(EVAL_OUT)/answers-y.jsonl
	$(BIN)/cmedins serve $(EVAL_MODEL) --name tiny-judge --port-file $(EVAL_OUT)/judge.port & pid=$$!; trap 'kill $$pid' EXIT; \
	  for i in $$(seq 600); do test -s $(EVAL_OUT)/judge.port && break; sleep 0.2; done; \
	  $(BIN)/cmedins eval $(EVAL_RECIPE) --x $(EVAL_OUT)/answers-x.jsonl --y $(EVAL_OUT)/answers-y.jsonl --out $(EVAL_OUT) \
	    --judge-endpoint http://127.0.0.1:$$(cat $(EVAL_OUT)/judge.port)/v1 --judge-model tiny-judge \
	    --train-build $(OUT)/sample --human-tasks $(EVAL_OUT)/human

test: $(STAMP) tool-venvs
	$(BIN)/ruff check cmedins tests train bench
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check cmedins tests train bench

clean:
	rm -rf $(OUT) .pytest_cache
