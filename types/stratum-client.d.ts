// stratum-client ships no types; this is the part of its API the interop test uses.
declare module 'stratum-client' {
  interface Work {
    extraNonce1: string;
    extraNonce2Size: number;
    miningDiff: number;
    jobId: string;
    prevhash: string;
    coinb1: string;
    coinb2: string;
    merkle_branch: string[];
    version: string;
    nbits: string;
    ntime: string;
    clean_jobs: boolean;
  }
  interface Options {
    server: string;
    port: number;
    worker: string;
    password?: string;
    autoReconnectOnError?: boolean;
    onConnect?: () => void;
    onClose?: () => void;
    onError?: (error: Error) => void;
    onAuthorizeSuccess?: () => void;
    onAuthorizeFail?: () => void;
    onNewDifficulty?: (difficulty: number) => void;
    onSubscribe?: (data: { extraNonce1: string; extraNonce2Size: number }) => void;
    onNewMiningWork?: (work: Work) => void;
    onSubmitWorkSuccess?: (error: unknown, result: unknown) => void;
    onSubmitWorkFail?: (error: unknown, result: unknown) => void;
  }
  interface Handle {
    submit(options: { worker_name: string; job_id: string; extranonce2: string; ntime: string; nonce: string }): void;
    shutdown(): void;
  }
  export default function stratumClient(options: Options): Handle;
}
