# ImageNet-1k -> CIFAR-10 class mapping: check the YAML and write the tables later stages read.


rule class_mapping:
    input:
        mapping=config["class_mapping"],
    output:
        mapping=report(
            "results/class_mapping.csv",
            caption="../report/class_mapping.rst",
            category="Class mapping",
        ),
        summary=report(
            "results/class_mapping_summary.csv",
            caption="../report/class_mapping_summary.rst",
            category="Class mapping",
        ),
    log:
        "logs/mapping/class_mapping.log",
    localrule: True
    conda:
        "../envs/benchmark.yaml"
    script:
        "../scripts/class_mapping.py"
