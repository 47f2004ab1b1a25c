# ImageNet-1k -> CIFAR-10 class mapping: check the YAML and write the tables later stages read.


rule class_mapping:
    input:
        mapping=config.get("class_mapping", "config/class_mapping.yaml"),
    output:
        mapping="results/class_mapping.csv",
        summary="results/class_mapping_summary.csv",
    log:
        "logs/mapping/class_mapping.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/class_mapping.py"
