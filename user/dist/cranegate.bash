# bash completion for cranegate(8). Self-contained: works with or
# without the bash-completion package.

_cranegate()
{
	local cur prev words cword
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	local commands="check apply status events replay detach diff confirm history rollback run metrics top capture learn"
	local common="--pin-root --state-dir --verbose --help"
	local reasons="no-rule unknown-zone spoofed-source multi-homed vlan-violation ics-denied fragment malformed ethertype stream monitor allowed reply"

	# The command is the first word that names one.
	local cmd= i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case " $commands " in
		*" ${COMP_WORDS[i]} "*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	# Arguments of options.
	case $prev in
	--pin-root | --state-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	--log | -w | --write | --pcap)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--policy)
		COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -- "$cur"))
		return
		;;
	--iface)
		COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		return
		;;
	--reason)
		COMPREPLY=($(compgen -W "$reasons" -- "$cur"))
		return
		;;
	--metrics | --summary | --count | --timeout | --flow | --zone | --confirm)
		return
		;;
	esac

	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$commands $common" -- "$cur"))
		return
	fi

	local opts=
	case $cmd in
	check) opts="--strict --insecure" ;;
	apply) opts="--confirm --insecure --force --shadow --promote --shadow-stop" ;;
	status) opts="--json" ;;
	events) opts="--json --count --timeout" ;;
	replay) opts="--policy --iface --by-source --json" ;;
	diff) opts="--pcap --iface --by-source" ;;
	run) opts="--log --metrics --summary --watch --detach-on-exit --no-reload --insecure --ipfix" ;;
	learn) opts="--pcap --log --iface --by-source" ;;
	top) opts="--count" ;;
	capture) opts="--reason --flow --zone --all --count --timeout -w" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $common" -- "$cur"))
		return
	fi
	case $cmd in
	check | apply | run | diff | replay | learn)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
}
complete -F _cranegate cranegate
