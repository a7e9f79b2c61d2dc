# percmusic bash completion: generated from the app by `make completions`; do not edit.
_percmusic() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local path="" store="" w i skip=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        if ((skip)); then skip=0; continue; fi
        case "$w" in
            --store) skip=1; store="${COMP_WORDS[i+1]}" ;;
            --store=*) store="${w#--store=}" ;;
            --archive-max-mb|--archive-max-ratio|--batch|--clips-per-class|--data|--dataset|--device|--file|--folds|--format|--frames|--hidden|--hubness|--k-max|--kind|--label-column|--latent|--loss|--lr|--manifest|--memory-budget|--metric|--metrics|--model|--n-boot|--n-mels|--nonlinearity|--out|--pairs|--patch|--pool|--preset|--ratios|--refit|--resamples|--scheduler|--seed|--seeds|--select-on|--split|--steps|--store|--subset|--threads|--tile|--wait|--wait-workers|--weights) skip=1 ;;
            -*) ;;
            *) path="$path $w" ;;
        esac
    done
    case "$prev" in
        --metric) COMPREPLY=($(compgen -W "mse msssim nlpd ssim all" -- "$cur")); return ;;
        --loss) COMPREPLY=($(compgen -W "mse msssim nlpd ssim" -- "$cur")); return ;;
        --preset) COMPREPLY=($(compgen -W "default quick gpu" -- "$cur")); return ;;
        --split) COMPREPLY=($(compgen -W "auto fault-filtered random file manifest" -- "$cur")); return ;;
        --device) COMPREPLY=($(compgen -W "auto cpu cuda" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "pdf svg png" -- "$cur")); return ;;
        --model) COMPREPLY=($(compgen -W "$(percmusic __complete-ids models "$store" 2>/dev/null)" -- "$cur")); return ;;
        --archive-max-mb|--archive-max-ratio|--batch|--clips-per-class|--data|--dataset|--device|--file|--folds|--format|--frames|--hidden|--hubness|--k-max|--kind|--label-column|--latent|--loss|--lr|--manifest|--memory-budget|--metric|--metrics|--model|--n-boot|--n-mels|--nonlinearity|--out|--pairs|--patch|--pool|--preset|--ratios|--refit|--resamples|--scheduler|--seed|--seeds|--select-on|--split|--steps|--store|--subset|--threads|--tile|--wait|--wait-workers|--weights) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    local words=""
    case "${path# }" in
        "distances stats"|"distances stats "*) words="--metric --dataset --device --tile --threads --plot --json --help" ;;
        "results show"|"results show "*) words="--plot --json --csv --help $(percmusic __complete-ids runs "$store" 2>/dev/null)" ;;
        "check"|"check "*) words="--repair --sources --json --help" ;;
        "classify"|"classify "*) words="--model --pool --controls --no-controls --n-boot --seed --dataset --device --force --json --allow-degenerate --help" ;;
        "compare"|"compare "*) words="--n-boot --seed --json --csv --help $(percmusic __complete-ids runs "$store" 2>/dev/null)" ;;
        "dashboard"|"dashboard "*) words="--out --help" ;;
        "demo"|"demo "*) words="--clips-per-class --device --json --help" ;;
        "distances") words="stats --metric --pairs --dataset --device --tile --threads --json --help" ;;
        "features"|"features "*) words="--dataset --frames --n-mels --device --json --help" ;;
        "figures"|"figures "*) words="--out --format --dataset --json --help $(percmusic __complete-ids runs "$store" 2>/dev/null)" ;;
        "filter"|"filter "*) words="--split --dataset --seed --ratios --file --json --help" ;;
        "ingest"|"ingest "*) words="--manifest --label-column --subset --dataset --synthetic --clips-per-class --force --archive-max-mb --archive-max-ratio --json --help" ;;
        "knn"|"knn "*) words="--metric --k-max --weights --select-on --refit --n-boot --seed --dataset --device --hubness --force --json --allow-degenerate --help" ;;
        "metrics"|"metrics "*) words="--json --help" ;;
        "reproduce"|"reproduce "*) words="--quick --preset --dataset --device --seed --seeds --folds --metrics --resamples --hubness --json --allow-degenerate --help" ;;
        "results") words="show --kind --metric --dataset --split --json --csv --help" ;;
        "rm"|"rm "*) words="--yes -y --json --help $(percmusic __complete-ids runs "$store" 2>/dev/null) $(percmusic __complete-ids models "$store" 2>/dev/null)" ;;
        "status"|"status "*) words="--errors --json --help" ;;
        "train"|"train "*) words="--loss --data --preset --steps --batch --patch --lr --seed --hidden --latent --nonlinearity --device --dataset --json --help" ;;
        "") words="check classify compare dashboard demo distances features figures filter ingest knn metrics reproduce results rm status train --store --wait --scheduler --memory-budget --wait-workers --debug --quiet -q --version --help" ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _percmusic percmusic
