// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title TestRewardToken
 * @notice The reward token of the local demo chain and the tests. Not for production: in real use
 * the distributor pays an existing token chosen by the DAO.
 */
contract TestRewardToken is ERC20 {
    /// @param initialHolder Receives the whole supply.
    /// @param initialSupply Tokens minted, in the smallest unit (18 decimals).
    constructor(address initialHolder, uint256 initialSupply) ERC20("DAO Test Reward", "tREW") {
        _mint(initialHolder, initialSupply);
    }
}
